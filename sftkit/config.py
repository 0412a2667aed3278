"""TrainConfig: every setting of a run, validated before any work starts.

Each field carries metadata (help text, bounds, choices) so that the CLI, the
config-file loader and the hyperparameter panel all read one source of truth.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sftkit.errors import ConfigError
from sftkit.folders import check_run_name

# the public names (notebooks and users import these; the rest may change)
__all__ = ["TrainConfig", "chat_config", "field_info"]


def _setting(default: Any, help: str, *, low: float | None = None, high: float | None = None,
             choices: tuple[str, ...] | None = None, group: str = "training", hf: str | None = None) -> Any:
    """A field with its metadata; `hf` is the Hugging Face TrainingArguments name where it differs."""
    meta = {"help": help, "low": low, "high": high, "choices": choices, "group": group, "hf": hf}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class TrainConfig:
    """The settings of one fine-tuning run. Defaults are the README's demo."""

    # What to train on.
    # Choices come from the task registry (sftkit.tasks.registry), so a registered task is a valid value.
    task: str = _setting("classification", "classification (a label per text), tokens (a tag per word: named "
                         "entities) or chat (instruction SFT of a causal LM); or a task added with register_task",
                         group="data")
    model: str = _setting("minilm", "zoo name, local model folder or hub name", group="data")
    dataset: str = _setting("rotten_tomatoes", "zoo name, local file (csv/json/jsonl/parquet) or dataset folder",
                            group="data")
    text_column: str = _setting("text", "column holding the input text", group="data")
    label_column: str = _setting("label", "column holding the class label", group="data")
    # 128 tokens covers all but ~1% of Rotten Tomatoes reviews; longer is slower, not better.
    max_length: int = _setting(128, "tokens kept per example; longer ones are truncated and counted",
                               low=8, high=8192, group="data")
    max_train_samples: int | None = _setting(
        None, "use a seeded, stratified subset of the training split (None: all)", low=1, group="data")

    # Optimisation. A 6-layer MiniLM takes a higher rate than BERT-base's usual 2e-5..5e-5: on Rotten
    # Tomatoes 8e-5 for 2 epochs beat 3e-5 and 5e-5 for 2-3 epochs, in less time.
    epochs: float = _setting(2.0, "passes over the training data (fractions allowed)", low=0.01, high=1000,
                             hf="num_train_epochs")
    batch_size: int = _setting(32, "examples per optimizer step before accumulation", low=1, high=4096,
                               hf="per_device_train_batch_size")
    grad_accum_steps: int = _setting(1, "micro-batches summed into one optimizer step", low=1, high=1024,
                                     hf="gradient_accumulation_steps")
    lr: float = _setting(8e-5, "peak learning rate of AdamW", low=1e-8, high=1.0, hf="learning_rate")
    weight_decay: float = _setting(0.01, "AdamW decoupled weight decay (not on biases and norms)", low=0.0, high=1.0)
    warmup_ratio: float = _setting(0.06, "share of steps spent warming the learning rate up from 0", low=0.0, high=0.5)
    scheduler: str = _setting("linear", "learning-rate decay after warmup",
                              choices=("linear", "cosine", "constant"), hf="lr_scheduler_type")
    max_grad_norm: float = _setting(1.0, "clip the gradient norm to this (0: no clipping)", low=0.0, high=1e6)
    # Length grouping cuts padding from ~50% to a few percent: about 1.8x faster on CPU.
    group_by_length: bool = _setting(True, "batch examples of similar length together (same randomness from the seed)")
    packing: bool = _setting(False, "chat: pack several conversations into each row, never attending across them")

    # LoRA (peft): rank 0 trains every weight; a rank > 0 trains low-rank adapters only.
    lora_r: int = _setting(0, "LoRA rank (0: full fine-tuning)", low=0, high=1024, group="lora")
    lora_alpha: float = _setting(16.0, "LoRA scaling numerator (updates are scaled by alpha / r)", low=0.0,
                                 high=1e4, group="lora")
    lora_dropout: float = _setting(0.05, "dropout on the LoRA branch", low=0.0, high=0.9, group="lora")
    lora_targets: str = _setting("all-linear", "modules that get adapters: all-linear or names like q_proj,v_proj",
                                 group="lora")

    # Evaluation, selection, stopping.
    eval_strategy: str = _setting("epoch", "when to evaluate on the validation split",
                                  choices=("epoch", "steps", "no"), group="evaluation")
    eval_steps: int = _setting(100, "evaluate every N optimizer steps when eval_strategy is 'steps'",
                               low=1, group="evaluation")
    eval_batch_size: int = _setting(64, "examples per evaluation batch (no gradients, so larger is fine)",
                                    low=1, high=4096, group="evaluation", hf="per_device_eval_batch_size")
    metric_for_best: str = _setting("auto", "validation metric that picks the best model, one of the task's; "
                                    "auto: the task's own (accuracy for classification, entity f1 for tokens, "
                                    "loss for chat)", group="evaluation", hf="metric_for_best_model")
    load_best_at_end: bool = _setting(True, "restore the best evaluated weights when training ends",
                                      group="evaluation", hf="load_best_model_at_end")
    early_stopping_patience: int = _setting(0, "stop after N evaluations without improvement (0: never)",
                                            low=0, high=1000, group="evaluation")
    baseline: bool = _setting(True, "classification: also fit TF-IDF + logistic regression on the same split and "
                              "report it beside the result (seconds)", group="evaluation")

    # Hardware and reproducibility.
    seed: int = _setting(42, "seeds data order, dropout and head initialisation", low=0, high=2**32 - 1,
                         group="system")
    device: str = _setting("auto", "cpu, cuda, cuda:N, mps, or auto (the best available)", group="system")
    # bf16 only where the hardware has it: emulated bf16 is slower than fp32.
    precision: str = _setting("auto", "auto: bf16 on GPUs and CPUs that compute it natively, else fp32",
                              choices=("auto", "fp32", "bf16", "fp16"), group="system")
    sharding: str = _setting("ddp", "several processes: ddp (a full copy each) or fsdp (weights, gradients and "
                             "optimizer state split across them, for models too big for one device)",
                             choices=("ddp", "fsdp"), group="system")
    checkpoint_every: int = _setting(0, "optimizer steps between resumable checkpoints in the run folder (0: none)",
                                     low=0, group="system", hf="save_steps")
    resume: bool = _setting(False, "continue from the run folder's checkpoint (needs run_name)", group="system")
    compile: bool = _setting(False, "torch.compile the model for training (slow first steps, then faster on GPUs)",
                             group="system", hf="torch_compile")
    log_every: int = _setting(10, "optimizer steps between log records", low=1, group="system", hf="logging_steps")
    output_dir: str = _setting("runs", "parent folder of run folders", group="system")
    run_name: str | None = _setting(None, "run folder name inside output_dir (None: dataset-model-time)",
                                    group="system")
    overwrite: bool = _setting(False, "replace an existing run of the same run_name (only run folders sftkit wrote)",
                               group="system")
    save_model: bool = _setting(True, "save the final model into the run folder", group="system")
    report_to: str = _setting("none", "also log the run to tensorboard, mlflow, or both (tensorboard,mlflow); "
                              "none: the run folder only", group="system")
    mlflow_tracking_uri: str | None = _setting(
        None, "MLflow tracking store for report_to mlflow (None: the SQLite store mlflow.db in output_dir)",
        group="system")
    trust_remote_code: bool = _setting(False, "allow model repositories to run their own Python code",
                                       group="system")

    def __post_init__(self) -> None:
        if isinstance(self.report_to, (list, tuple)):  # the Hugging Face form: report_to=["tensorboard"]
            object.__setattr__(self, "report_to", ",".join(map(str, self.report_to)) or "none")
        validate(self)

    @property
    def best_metric(self) -> str:
        """The metric that picks the best model: metric_for_best, with auto resolved by the task."""
        from sftkit.tasks.registry import task_spec

        return task_spec(self.task).metric_for_best if self.metric_for_best == "auto" else self.metric_for_best

    # --- construction -------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: dict[str, Any], *, source: str = "config") -> TrainConfig:
        """Build from a mapping, refusing unknown keys and wrongly typed values by name."""
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: expected a mapping of settings, got {type(values).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        converted: dict[str, Any] = {}
        for key, value in values.items():
            if key in HF_NAMES:  # a Hugging Face TrainingArguments name, e.g. learning_rate for lr
                if HF_NAMES[key] in values:
                    raise ConfigError(f"{source}: '{key}' and '{HF_NAMES[key]}' are the same setting; give one")
                key = HF_NAMES[key]
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise ConfigError(f"{source}: unknown setting '{key}'{hint}")
            converted[key] = _coerce(key, value, _field_type(cls, key), source)
        return cls(**converted)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        """Read a .json or .yaml file. YAML is read with safe_load: a config file cannot run code."""
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"{path}: config file not found")
        suffix = path.suffix.lower()
        if suffix not in (".json", ".yaml", ".yml"):
            raise ConfigError(f"{path}: config files must end in .json, .yaml or .yml")
        try:
            text = path.read_text(encoding="utf-8")
            if suffix == ".json":
                values = json.loads(text)
            else:
                import yaml

                values = yaml.safe_load(text)
        except Exception as err:  # not UTF-8, JSONDecodeError, and yaml's errors (not ValueErrors)
            raise ConfigError(f"{path}: cannot parse: {err}") from None
        return cls.from_dict(values or {}, source=str(path))

    def with_overrides(self, assignments: list[str] | dict[str, Any]) -> TrainConfig:
        """Apply `key=value` strings (from `--set`) or a mapping; values are parsed as YAML scalars."""
        values = self.to_dict()
        if isinstance(assignments, dict):
            pairs = list(assignments.items())
        else:
            pairs = []
            for item in assignments:
                if "=" not in item:
                    raise ConfigError(f"--set {item!r}: expected key=value")
                key, raw = item.split("=", 1)
                pairs.append((key.strip(), _parse_scalar(raw)))
        for key, value in pairs:  # an override by its Hugging Face name replaces the sftkit setting
            values[HF_NAMES.get(key, key)] = value
        return TrainConfig.from_dict(values, source="--set")

    @classmethod
    def for_task(cls, task: str, **settings: Any) -> TrainConfig:
        """A config for `task` from the task's own defaults (made_ner for tokens; SmolLM2 on the made
        instructions for chat), then `settings`."""
        from sftkit.tasks.registry import task_spec

        return cls.from_dict({**task_spec(task).defaults, "task": task, **settings}, source="for_task")

    def switch_task(self, task: str) -> TrainConfig:
        """This config for another task: the settings either task's defaults name move to the new task's
        values (or back to TrainConfig's defaults); every other setting is kept."""
        from sftkit.tasks.registry import task_spec

        old, new = task_spec(self.task).defaults, task_spec(task).defaults
        return self.with_overrides({"task": task, **{k: new.get(k, DEFAULTS[k]) for k in {*old, *new}}})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_yaml(self) -> str:
        """Only the settings that differ from the defaults, as a config file would hold them."""
        import yaml

        changed = {k: v for k, v in self.to_dict().items() if v != DEFAULTS[k]}
        return yaml.safe_dump(changed, sort_keys=False) if changed else "{}\n"

    def to_command(self) -> str:
        """The `sftkit train` command line that reproduces this config."""
        parts = ["sftkit", "train"]
        for key, value in self.to_dict().items():
            if value != DEFAULTS[key]:
                text = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
                parts.append(f"--set {key}={_shell_quote(text)}")
        return " ".join(parts)


def field_info() -> list[dict[str, Any]]:
    """Each setting's name, type, default, help, bounds, choices and group, in declaration order."""
    info = []
    from sftkit.tasks.registry import TASKS

    # Read at call time: tasks registered after import are choices too.
    dynamic = {"task": {"choices": tuple(TASKS),
                        "help": "; ".join(f"{name}: {spec.description}" for name, spec in TASKS.items())},
               "metric_for_best": {"choices": ("auto", *dict.fromkeys(m for spec in TASKS.values()
                                                                        for m in spec.best_choices))}}
    for f in dataclasses.fields(TrainConfig):
        kind, optional = _base_type(_field_type(TrainConfig, f.name))
        meta = {**f.metadata, **dynamic.get(f.name, {})}
        info.append({"name": f.name, "type": kind.__name__, "optional": optional, "default": f.default, **meta})
    return info


def validate(config: TrainConfig) -> None:
    """Check every field against its type, bounds and choices, then the settings together; the error names
    the field."""
    for f in dataclasses.fields(config):
        _check_value(f, getattr(config, f.name))
    from sftkit.data.zoo import model_name_error

    error = model_name_error(config.model, where="setting 'model'")
    if error:  # a typo is refused before any work starts
        raise error
    _check_task(config)
    if config.run_name is not None:  # one plain folder name: never '.', '..', a path or a hidden name
        check_run_name(config.run_name)
    if config.resume and not config.run_name:
        raise ConfigError.about("setting 'resume' needs 'run_name': the run folder to continue")
    if config.resume and config.overwrite:
        raise ConfigError.about("settings 'resume' and 'overwrite' exclude each other: continue the run, or "
                                "replace it")
    _check_trackers(config.report_to)
    if config.lora_r:
        _check_lora()
    if config.device != "auto" and not (config.device in ("cpu", "mps", "cuda") or
                                        re.fullmatch(r"cuda:\d+", config.device)):
        raise ConfigError.about("setting 'device' must be auto, cpu, cuda, cuda:N or mps; got {value!r}",
                                value=config.device)


def check_setting(name: str, value: Any, *, source: str = "config") -> Any:
    """One setting on its own: its type (converted as a config file's would be), bounds and choices; the
    checks that involve other settings (task and dataset, resume and run_name) are validate()'s. The
    hyperparameter panel marks each field with its own error this way."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    name = HF_NAMES.get(name, name)
    if name not in fields:
        raise ConfigError.about("unknown setting '{name}'", where=source, name=name)
    value = _coerce(name, value, _field_type(TrainConfig, name), source)
    _check_value(fields[name], value)
    return value


def _check_value(f: dataclasses.Field, value: Any) -> None:
    kind, optional = _base_type(_field_type(TrainConfig, f.name))
    if value is None:
        if not optional:
            raise ConfigError.about("setting '{name}' must not be empty", name=f.name)
        return
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise ConfigError.about("setting '{name}' must be {kind}, got {value!r}", name=f.name, kind=kind.__name__,
                                value=value)
    if kind is float and not math.isfinite(value):  # NaN would pass every bound check below
        raise ConfigError.about("setting '{name}' must be a finite number, got {value!r}", name=f.name, value=value)
    low, high, choices = f.metadata.get("low"), f.metadata.get("high"), f.metadata.get("choices")
    if low is not None and value < low:
        raise ConfigError.about("setting '{name}' must be >= {low}, got {value!r}", name=f.name, low=low, value=value)
    if high is not None and value > high:
        raise ConfigError.about("setting '{name}' must be <= {high}, got {value!r}", name=f.name, high=high,
                                value=value)
    if choices and value not in choices:
        raise ConfigError.about("setting '{name}' must be one of {choices}; got {value!r}", name=f.name,
                                choices=", ".join(choices), value=value)
    if kind is str and not optional and not value.strip():
        raise ConfigError.about("setting '{name}' must not be empty", name=f.name)


def _check_task(config: TrainConfig) -> None:
    """The task must be registered, metric_for_best one of its metrics, and the zoo's models and datasets
    of the right kind for it (its spec's check): a mix-up is named before any loading."""
    from sftkit.tasks.registry import task_spec

    spec = task_spec(config.task)
    if config.metric_for_best != "auto" and config.metric_for_best not in spec.best_choices:
        raise ConfigError.about("setting 'metric_for_best' must be auto or one of {choices} for task {task}; "
                                "got {value!r}", choices=", ".join(spec.best_choices), task=spec.name,
                                value=config.metric_for_best)
    spec.check_config(config)


def tracker_names(report_to: str) -> list[str]:
    """The trackers a report_to setting names, in order, without repeats ("none" names none)."""
    names = [name.strip().lower() for name in report_to.split(",") if name.strip()]
    return [] if names in ([], ["none"]) else list(dict.fromkeys(names))


# Tracker name (as report_to spells it, and the extra that installs it) -> the module it needs. Kept here,
# below sftkit.training.trackers, so that checking a setting never imports the trackers.
TRACKERS: dict[str, str] = {"tensorboard": "tensorboard", "mlflow": "mlflow"}


def _check_trackers(report_to: str) -> None:
    """Each tracker must be known and installed: a missing package is named with its extra before any work."""
    import importlib.util

    for name in tracker_names(report_to):
        if name not in TRACKERS:
            raise ConfigError.about("setting 'report_to': unknown tracker {name!r}; choose from none, {trackers} "
                                    "(several separated by commas)", name=name, trackers=", ".join(TRACKERS))
        module = TRACKERS[name]
        if importlib.util.find_spec(module) is None:
            raise ConfigError.about("setting 'report_to': {name} needs the {module} package, which is not "
                                    "installed: pip install 'sftkit[{name}]'", name=name, module=module)


def _check_lora() -> None:
    """LoRA needs peft (the lora extra): its absence is named before any data or model loads."""
    import importlib.util

    if importlib.util.find_spec("peft") is None:
        raise ConfigError.about("setting 'lora_r' > 0 trains LoRA adapters, which need the peft package, not "
                                "installed: pip install 'sftkit[lora]' (or set lora_r=0 for full fine-tuning)")


def chat_config(**settings: Any) -> TrainConfig:
    """A TrainConfig with defaults for instruction SFT of the zoo's SmolLM2 on the made instruction set."""
    return TrainConfig.for_task("chat", **settings)


# --- helpers ---------------------------------------------------------------------------

def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _base_type(annotation: Any) -> tuple[type, bool]:
    args = typing.get_args(annotation)
    if args:  # X | None
        kinds = [a for a in args if a is not type(None)]
        return kinds[0], type(None) in args
    return annotation, False


def _coerce(key: str, value: Any, annotation: Any, source: str) -> Any:
    """Accept ints for floats and numeric strings from YAML (1e-5 parses as a string in YAML 1.1)."""
    kind, optional = _base_type(annotation)
    if value is None and optional:
        return None
    if kind is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ConfigError.about("setting '{name}' must be a number, got {value!r}", where=source, name=key,
                                    value=value) from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is str and isinstance(value, bool):
        # YAML 1.1 reads a bare no/yes/off/on as a boolean: `eval_strategy: no` means the choice "no".
        choices = {f.name: f.metadata.get("choices") for f in dataclasses.fields(TrainConfig)}.get(key) or ()
        word = {False: "no", True: "yes"}[value]
        if word in choices:
            return word
    if key == "report_to" and isinstance(value, (list, tuple)):  # YAML list or [a, b] on the command line
        return ",".join(map(str, value)) or "none"
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError.about("setting '{name}' must be {kind}, got {value!r}", where=source, name=key,
                                kind=kind.__name__, value=value)
    return value


def _parse_scalar(raw: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(raw)
    except Exception:
        return raw


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# Each setting's default, read from the fields: building a TrainConfig here would import the zoo.
DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
# The Hugging Face TrainingArguments names that sftkit accepts for its own (learning_rate -> lr).
HF_NAMES: dict[str, str] = {f.metadata["hf"]: f.name for f in dataclasses.fields(TrainConfig) if f.metadata.get("hf")}
