"""How fast the JupyterLab "Fine-tuning runs" sidebar lists many runs.

Writes N run folders (default 500, with 200-record log histories, under runs/ and
notebooks/runs/), then measures:
  - RunIndex.list() in-process: the first listing (reads every record) and a repeat (cached by mtime);
  - GET /sftkit/runs through a real JupyterLab server (the request the sidebar polls every 2 s);
  - the sidebar's render time in Debian's chromium (the DOM built for all rows, data-render-ms).

    python benchmarks/bench_runs_list.py [--runs 500] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from run_folders import make_run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_runs(root: Path, n: int) -> None:
    for i in range(n):
        where = "runs" if i % 5 else "notebooks/runs/sweep"
        make_run(root, f"{where}/run-{i:04d}", lr=1e-4 * (1 + i % 7), started=1.7e9 + i, steps=200,
                 dataset=("rotten_tomatoes", "bbc_news", "drug_reviews")[i % 3])


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        make_runs(root, args.runs)
        print(f"{args.runs} run folders written in {time.perf_counter() - start:.1f} s")

        from widgets.server.index import RunIndex

        index = RunIndex(root)
        cold = timed(index.list, 1)[0]
        warm = timed(index.list, 5)
        assert len(index.list()) == args.runs
        print(f"RunIndex.list, first (reads every record): {cold * 1000:7.1f} ms")
        print(f"RunIndex.list, repeat (cached by mtime):    {statistics.median(warm) * 1000:7.1f} ms (median of 5)")

        port, token = _free_port(), "bench-token"
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}
        log = open(root / ".lab.log", "w")  # noqa: SIM115 (the server writes it until it is stopped below)
        lab = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip", "127.0.0.1",
             "--port", str(port), f"--IdentityProvider.token={token}", "--ServerApp.root_dir", str(root)],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    if lab.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit((root / ".lab.log").read_text()[-2000:])
                    time.sleep(0.5)
            request = urllib.request.Request(f"{url}/sftkit/runs", headers={"Authorization": f"token {token}"})

            def fetch() -> None:
                body = urllib.request.urlopen(request, timeout=60).read()
                fetch.size = len(body)  # type: ignore[attr-defined]

            first = timed(fetch, 1)[0]
            polls = timed(fetch, 10)
            print(f"GET /sftkit/runs, first:  {first * 1000:7.1f} ms ({fetch.size / 1024:.0f} KiB)")  # type: ignore[attr-defined]
            print(f"GET /sftkit/runs, polls:  {statistics.median(polls) * 1000:7.1f} ms median, "
                  f"{max(polls) * 1000:.1f} ms max of 10 (the sidebar polls every 2 s)")
            if not args.no_browser:
                render(url, token, args.runs)
        finally:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait(timeout=20)
            log.close()


def render(url: str, token: str, n: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/lab?reset&token={token}")
        page.wait_for_selector(".jp-SideBar li[data-id='sftkit-runs-sidebar']", timeout=120_000)
        start = time.perf_counter()
        page.locator(".jp-SideBar li[data-id='sftkit-runs-sidebar']").click()
        page.wait_for_function(f"() => document.querySelectorAll('#sftkit-runs-sidebar .sftkit-lab-run').length === {n}",
                               timeout=120_000)
        shown = time.perf_counter() - start
        first_render = float(page.evaluate("() => document.querySelector('#sftkit-runs-sidebar').dataset.renderMs"))
        # A filter change re-renders from the cached rows: what a poll with one changed run costs too.
        page.select_option("#sftkit-runs-sidebar select[aria-label='Filter by dataset']", "bbc_news")
        page.select_option("#sftkit-runs-sidebar select[aria-label='Filter by dataset']", "")
        again = float(page.evaluate("() => document.querySelector('#sftkit-runs-sidebar').dataset.renderMs"))
        print(f"sidebar, click to {n} rows shown: {shown * 1000:7.1f} ms (request + render)")
        print(f"sidebar render, first (builds {n} rows): {first_render:7.1f} ms; re-render (rows reused): {again:.1f} ms")
        browser.close()


if __name__ == "__main__":
    main()
