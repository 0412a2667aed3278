"""The conda entry point installs exactly what pyproject pins."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = set(project["dependencies"])
    for name in ("notebooks", "bench", "tensorboard", "mlflow", "dev"):
        wanted |= {r for r in extras[name] if not r.startswith("sftkit")}
    return wanted


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(pip_section) - {"-e ."} == _pyproject_requirements()


def test_torch_pin_takes_the_cpu_wheel():
    # An open upper bound lets pip pick a newer, multi-GB CUDA build.
    torch_pins = [r for r in _pyproject_requirements() if r.startswith("torch")]
    assert torch_pins == ["torch>=2.4,<=2.13.0"]


def test_lazy_package_reaches_submodules_and_names():
    """`import sftkit` loads no torch, yet `sftkit.api.x` works as with an eager package, and a wrong name is an
    AttributeError, not an import error."""
    import subprocess
    import sys

    code = ("import sys, sftkit\n"
            "assert 'torch' not in sys.modules\n"
            "assert callable(sftkit.api.stratified_subset) and callable(sftkit.train)\n"
            "assert not hasattr(sftkit, 'no_such_thing')\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
