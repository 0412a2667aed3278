"""The conda entry point installs exactly what pyproject pins."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = set(project["dependencies"])
    for name in ("notebooks", "bench", "dev"):
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
