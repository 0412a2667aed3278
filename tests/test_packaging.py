"""The conda entry point installs exactly what pyproject pins."""

import subprocess
import sys
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = set(project["dependencies"])
    for name in extras:
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


def _without(packages: list[str], code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter where importing any of `packages` fails, as if not installed."""
    blocker = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in packages)
    return subprocess.run([sys.executable, "-c", blocker + code], capture_output=True, text=True, cwd=ROOT)


def test_lora_without_peft_is_refused_by_name_before_any_loading():
    code = ("from sftkit import TrainConfig, ConfigError\n"
            "import sys\n"
            "try:\n"
            "    TrainConfig(lora_r=8)\n"
            "except ConfigError as err:\n"
            "    print('refused:', err)\n"
            "assert 'transformers' not in sys.modules  # refused before a model could load\n"
            "TrainConfig(lora_r=0)  # full fine-tuning needs no peft\n")
    out = _without(["peft"], code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "refused: setting 'lora_r'" in out.stdout and "pip install 'sftkit[lora]'" in out.stdout


def test_is_lora_needs_no_peft():
    """FSDP's unsharding asks is_lora of every model: a run without LoRA must not need peft installed."""
    code = ("import torch\n"
            "from sftkit.models.lora import is_lora, merge_lora\n"
            "model = torch.nn.Linear(2, 2)\n"
            "assert is_lora(model) is False and merge_lora(model) is model\n"
            "print('ok')\n")
    out = _without(["peft"], code)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def test_is_lora_tells_a_peft_model(tmp_path):
    from sftkit.models.classifiers import tiny_classifier
    from sftkit.models.lora import apply_lora, is_lora

    model, _ = tiny_classifier(["a", "b"])
    assert not is_lora(model)
    assert is_lora(apply_lora(model, r=2, alpha=4.0, dropout=0.0, targets="query,value"))


def test_widgets_name_the_extra_to_install():
    code = ("import widgets\n"
            "try:\n"
            "    widgets.HyperparamPanel\n"
            "except ModuleNotFoundError as err:\n"
            "    print(err)\n")
    out = _without(["ipywidgets", "anywidget"], code)
    assert "pip install 'sftkit[notebooks]'" in out.stdout, out.stdout + out.stderr[-2000:]


def test_core_dependencies_are_imported_by_the_library():
    """A core dependency that no module of sftkit/ imports belongs in the extra that uses it. gguf is the
    exception: transformers imports it to read the zoo's SmolLM2 file (sftkit.models.causal_lm passes gguf_file)."""
    import re

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    imports = {"scikit-learn": "sklearn", "pyyaml": "yaml"}
    source = "\n".join(p.read_text() for p in (ROOT / "sftkit").rglob("*.py"))
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~ \[]", requirement)[0]
        module = imports.get(name, name)
        if name == "gguf":
            assert "gguf_file=" in source
            continue
        assert re.search(rf"^\s*(import|from) {module}\b", source, re.M), f"{name} is not imported by sftkit/"
