"""axe-core, the accessibility checker the browser tests run, vendored from its npm tarball.

    python tests/browser/axe.py      # fetch it now (the browser tests do this on first use)

One pinned version, checked against the registry's integrity hash of the tarball and the hash of
the file taken from it, so every run checks with the same rules. It lands in tests/browser/vendor/
with its licence (MPL-2.0); fetching needs `npm` and the npm registry, once.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

VERSION = "4.14.1"
TARBALL_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
SCRIPT_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
VENDOR = Path(__file__).resolve().parent / "vendor"
SCRIPT = VENDOR / f"axe-core-{VERSION}.min.js"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_axe() -> Path:
    """The path of axe.min.js, fetched with `npm pack` and verified if it is not here yet."""
    if SCRIPT.exists() and _sha256(SCRIPT) == SCRIPT_SHA256:
        return SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"axe-core {VERSION} is not in {VENDOR} and npm is missing to fetch it: install Node.js "
                           f"and npm, or copy axe.min.js of axe-core {VERSION} to {SCRIPT}")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([npm, "pack", f"axe-core@{VERSION}", "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True, timeout=300)
        tarball = Path(tmp) / f"axe-core-{VERSION}.tgz"
        if done.returncode != 0 or not tarball.exists():
            raise RuntimeError(f"npm pack axe-core@{VERSION} failed: {done.stderr.strip()[-2000:]}")
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if integrity != TARBALL_INTEGRITY:
            raise RuntimeError(f"axe-core-{VERSION}.tgz from the registry has integrity {integrity}, "
                               f"expected {TARBALL_INTEGRITY}: not using it")
        VENDOR.mkdir(exist_ok=True)
        with tarfile.open(tarball) as tar:
            for member, target in (("package/axe.min.js", SCRIPT), ("package/LICENSE", VENDOR / "axe-core-LICENSE")):
                source = tar.extractfile(member)
                if source is None:
                    raise RuntimeError(f"{tarball.name} has no {member}")
                target.write_bytes(source.read())
    if _sha256(SCRIPT) != SCRIPT_SHA256:
        SCRIPT.unlink()
        raise RuntimeError(f"axe.min.js of axe-core {VERSION} does not have the expected sha256 {SCRIPT_SHA256}")
    return SCRIPT


# The rules' impact levels that fail a test: what blocks or seriously hinders people.
FAILING_IMPACTS = ("serious", "critical")


def run_axe(page, selector: str) -> list[dict]:
    """Run axe-core over the first element matching `selector` in a Playwright page; return the
    violations of serious or critical impact, each with its rule, impact, help and the failing nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(ensure_axe()))
    found = page.evaluate(
        """async (selector) => {
            const root = document.querySelector(selector);
            if (!root) throw new Error(`nothing matches ${selector}`);
            const result = await window.axe.run(root, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })) }));
        }""", selector)
    return [v for v in found if v["impact"] in FAILING_IMPACTS]


if __name__ == "__main__":
    print(ensure_axe())
