"""HyperparamPanel: a form generated from TrainConfig's fields, validated as you type, that shows the
matching config file and CLI command, saves and loads configs, and starts/stops training."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Callable

import ipywidgets as widgets
import traitlets

from sftkit import ConfigError, TrainConfig, field_info
from sftkit.config import check_setting
from widgets._base import StaticCopyMixin
from widgets._html import MUTED, NO_MATH, esc, table, text_width
from widgets.i18n import translator

# Which field a ConfigError message is about: "setting 'lr' must be ..."
_FIELD_IN_ERROR = re.compile(r"setting '([^']+)'")
RUNNING = ("starting", "training", "stopping")  # a LiveMonitor's statuses while a run is going


class HyperparamPanel(StaticCopyMixin, widgets.VBox):
    """Edit a TrainConfig. `.config` is the TrainConfig the form holds (ConfigError while a field is invalid).

    Numbers are typed into text boxes, not number widgets: a number widget silently
    replaces a bad entry, and the point here is to say what is wrong and why.
    Train calls `on_train(config)`; pass `monitor=` (a LiveMonitor) and `data=`/`model=` to train there.
    With a monitor, Train is disabled while its run is going and Stop enabled only then; with plain
    callbacks the panel cannot see a run end, so a run counts as going from Train until Stop.
    """

    values = traitlets.Dict(help="field name -> the value as typed (str for text fields)")
    errors = traitlets.Dict(help="field name -> error message, for the fields that are invalid now")
    yaml = traitlets.Unicode(help="the config file matching the form (settings that differ from the defaults)")
    command = traitlets.Unicode(help="the `sftkit train` command matching the form")
    message = traitlets.Unicode(help="the last action's outcome (saved, loaded, training started ...)")

    def __init__(self, config: TrainConfig | None = None, *, on_train: Callable[[TrainConfig], Any] | None = None,
                 on_stop: Callable[[], Any] | None = None, monitor: Any = None, data: Any = None,
                 model: Any = None, groups: tuple[str, ...] | None = None, language: str | None = None) -> None:
        """`language`: "en" or "zh" (Simplified Chinese) for every label, tooltip and message; None:
        $SFTKIT_LANG, else English. Field names stay as typed in configs and commands; the engine's setting errors
        come in the same language."""
        self.tr = tr = translator(language)
        self.language = tr.language
        self._config = config or TrainConfig()
        self.fields = [f for f in field_info() if groups is None or f["group"] in groups]
        self._by_name = {f["name"]: f for f in self.fields}
        if monitor is not None and on_train is None:
            def on_train(cfg: TrainConfig) -> Any:
                return monitor.train(cfg, data=data, model=model() if callable(model) else model)
        if monitor is not None and on_stop is None:
            def on_stop() -> None:
                monitor.stop("stopped from the panel")  # the run records where it was stopped from
        self.on_train, self.on_stop = on_train, on_stop
        self.monitor = monitor
        self._run_going = False  # without a monitor: from Train until Stop
        self.inputs: dict[str, widgets.ValueWidget] = {}
        self._error_w: dict[str, widgets.HTML] = {}
        sections: list[widgets.Widget] = []
        for group in dict.fromkeys(f["group"] for f in self.fields):
            sections.append(widgets.HTML(f"<b>{esc(tr(group))}</b>"))
            sections += [self._field_row(f) for f in self.fields if f["group"] == group]
        style = {"description_width": f"{self._label_px}px"}
        self._yaml_w = widgets.Textarea(description=tr("config"), disabled=True, style=style,
                                        tooltip=tr("the config file matching the form"),
                                        layout=widgets.Layout(width="95%", height="90px"))
        self._command_w = widgets.Textarea(description=tr("command"), disabled=True, style=style,
                                           tooltip=tr("the sftkit train command matching the form"),
                                           layout=widgets.Layout(width="95%", height="50px"))
        self._path_w = widgets.Text(value="config.yaml", description=tr("file"), style=style,
                                    tooltip=tr("the config file to save or load"))
        save = widgets.Button(description=tr("Save"), tooltip=tr("save the config to this file (.yaml or .json)"))
        load = widgets.Button(description=tr("Load"), tooltip=tr("load the config from this file"))
        self._train_b = widgets.Button(description=tr("Train"), button_style="success", icon="play",
                                       tooltip=tr("train with these settings"))
        self._stop_b = widgets.Button(description=tr("Stop"), button_style="danger", icon="stop", disabled=True,
                                      tooltip=tr("stop the run after the current step"))
        self._message_w = widgets.HTML()
        for w, cls in ((self._train_b, "sftkit-train"), (self._stop_b, "sftkit-stop"), (save, "sftkit-save"),
                       (load, "sftkit-load"), (self._yaml_w, "sftkit-yaml"), (self._command_w, "sftkit-command"),
                       (self._message_w, "sftkit-message")):
            w.add_class(cls)
        save.on_click(lambda _: self._try(lambda: self.save(self._path_w.value)))
        load.on_click(lambda _: self._try(lambda: self.load(self._path_w.value)))
        self._train_b.on_click(lambda _: self._try(self.train))
        self._stop_b.on_click(lambda _: self.stop())
        super().__init__([widgets.VBox(sections), self._yaml_w, self._command_w,
                          widgets.HBox([self._path_w, save, load]),
                          widgets.HBox([self._train_b, self._stop_b, self._message_w])])
        self.add_class("sftkit-hparams")
        if monitor is not None:
            monitor.observe(self._monitor_changed, "status")
        self._show(self._config)

    # --- building the form -------------------------------------------------------------
    @property
    def _label_px(self) -> int:
        """Room for the longest description in full: the field names and the (translated) names of the config,
        command and file boxes (JupyterLab's 13px UI font is up to 15% wider than Arial; CJK is 1 em a character)."""
        labels = [f["name"] for f in self.fields] + [self.tr(d) for d in ("config", "command", "file")]
        return math.ceil(max(text_width(label, 13) for label in labels) * 1.15) + 12

    def _help(self, f: dict[str, Any]) -> str:
        """A field's help text in the panel's language (the task field's: from the registered tasks)."""
        tr = self.tr
        if f["name"] == "task" and not tr.english:
            from sftkit.tasks.registry import TASKS

            return tr("; ").join(tr("{name}: {description}", name=name, description=tr(spec.description))
                                 for name, spec in TASKS.items())
        return tr(f["help"])

    def _field_row(self, f: dict[str, Any]) -> widgets.Widget:
        name, kind = f["name"], f["type"]
        label = self._label_px
        style = {"description_width": f"{label}px"}
        if kind == "bool":
            # The name sits right of the box here: room for it in full, after the indent.
            width = max(label + 240, label + math.ceil(text_width(name, 13) * 1.15) + 40)
            w: widgets.ValueWidget = widgets.Checkbox(description=name, indent=True, style=style,
                                                      layout=widgets.Layout(width=f"{width}px"))
        elif f.get("choices"):
            w = widgets.Dropdown(options=list(f["choices"]), description=name, style=style,
                                 layout=widgets.Layout(width=f"{label + 240}px"))
        else:
            # continuous_update=False: validate when the user presses Enter or leaves the box.
            w = widgets.Text(description=name, continuous_update=False, style=style,
                             placeholder=self.tr("empty: None") if f["optional"] else "",
                             layout=widgets.Layout(width=f"{label + 240}px"))
        bounds = " ".join(x for x in (f"≥ {f['low']}" if f.get("low") is not None else "",
                                      f"≤ {f['high']}" if f.get("high") is not None else "") if x)
        template = "{help} ({kind}" + (", optional" if f["optional"] else "") + (", {bounds}" if bounds else "") + ")"
        help_text = self._help(f)
        w.tooltip = self.tr(template, help=help_text, kind=kind, bounds=bounds)
        w.add_class(f"sftkit-field-{name}")
        w.observe(lambda change, name=name: self._changed(name), "value")
        self.inputs[name] = w
        error = widgets.HTML(layout=widgets.Layout(min_width="200px"))
        error.add_class(f"sftkit-error-{name}")
        self._error_w[name] = error
        help_w = widgets.HTML(f'<span class="{NO_MATH}" style="color:{MUTED};font-size:11px">{esc(help_text)}</span>')
        return widgets.HBox([w, error, help_w])

    # --- values <-> config -------------------------------------------------------------
    def _show(self, config: TrainConfig) -> None:
        """Put a config's values into the form (without validating each change on the way)."""
        self._loading = True
        try:
            for name, w in self.inputs.items():
                value = getattr(config, name)
                w.value = value if isinstance(w, (widgets.Checkbox, widgets.Dropdown)) else _to_text(value)
        finally:
            self._loading = False
        self._validate()

    def _changed(self, name: str) -> None:
        if getattr(self, "_loading", False):
            return
        if name == "task" and self.inputs["task"].value != self._config.task:
            self._switch_task(self.inputs["task"].value)
        else:
            self._validate()

    def _switch_task(self, task: str) -> None:
        """Another task brings its own data and model (made_ner for tokens, SmolLM2 for chat): the fields its
        defaults name change with it, and the message says which; the rest stays as typed."""
        try:
            config = self._config.switch_task(task)
        except ConfigError:
            self._validate()  # the error shows beside the field at fault
            return
        changed = [name for name in self.inputs if name != "task" and getattr(config, name) != getattr(self._config, name)]
        self._config = config
        self._show(config)
        if changed:
            self._say(self.tr("task {task}: {changes}", task=task,
                              changes=", ".join(f"{n}={getattr(config, n)}" for n in changed)))

    def _parse(self, name: str, raw: Any) -> Any:
        f = self._by_name[name]
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        if text == "" and f["optional"]:
            return None
        if f["type"] == "int":
            try:
                return int(text)
            except ValueError:
                raise ConfigError.about("setting '{name}' must be a whole number, got {value!r}", name=name,
                                        value=raw) from None
        if f["type"] == "float":
            try:
                return float(text)
            except ValueError:
                # the engine's own words for a non-number, translated with its other setting errors
                raise ConfigError.about("setting '{name}' must be a number, got {value!r}", name=name,
                                        value=raw) from None
        return raw

    def _validate(self) -> None:
        """Check each field on its own (so each error sits beside its field), then the whole config."""
        typed = {name: w.value for name, w in self.inputs.items()}
        parsed, errors = {}, {}
        for name, raw in typed.items():
            try:
                parsed[name] = check_setting(name, self._parse(name, raw))
            except ConfigError as err:
                errors[name] = self.tr.error(err).removeprefix("config: ")
        if not errors:
            try:
                self._config = self._config.with_overrides(parsed)
            except ConfigError as err:
                match = _FIELD_IN_ERROR.search(str(err))
                errors[match.group(1) if match else next(iter(parsed))] = self.tr.error(err).removeprefix("--set: ")
        with self.hold_trait_notifications():
            self.values, self.errors = typed, errors
            if not errors:
                self.yaml, self.command = self._config.to_yaml(), self._config.to_command()
        for name, w in self._error_w.items():
            msg = errors.get(name)
            w.value = f'<span class="sftkit-error {NO_MATH}" style="color:#c00">⚠ {esc(msg)}</span>' if msg else ""
        if errors:
            self._yaml_w.value = self._command_w.value = self.tr("(fix the fields marked ⚠)")
        else:
            self._yaml_w.value, self._command_w.value = self.yaml, self.command
        self._update_buttons()

    @property
    def config(self) -> TrainConfig:
        """The TrainConfig the form holds; ConfigError naming the invalid fields while any is invalid."""
        if self.errors:
            raise ConfigError("; ".join(self.errors.values()))
        return self._config

    @config.setter
    def config(self, config: TrainConfig) -> None:
        self._config = config
        self._show(config)

    def set(self, **typed: Any) -> None:
        """Type values into fields, as a user would (strings for text fields)."""
        for name, value in typed.items():
            self.inputs[name].value = value

    # --- files and actions --------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the config as YAML (or JSON for a .json path); `sftkit train --config` reads it back."""
        path = Path(path)
        text = self.config.to_json() if path.suffix.lower() == ".json" else self.config.to_yaml()
        path.write_text(text, encoding="utf-8")
        self.message = self.tr("saved {path}", path=path)
        self._message_w.value = f'<span class="{NO_MATH}">{esc(self.message)}</span>'
        return path

    def load(self, path: str | Path) -> TrainConfig:
        """Read a .yaml/.json config into the form (ConfigError if the file is invalid)."""
        config = TrainConfig.from_file(path)
        self.config = config
        self.message = self.tr("loaded {path}", path=path)
        self._message_w.value = f'<span class="{NO_MATH}">{esc(self.message)}</span>'
        return config

    @property
    def running(self) -> bool:
        """Whether a run started here is going (with a monitor: as the monitor's status says)."""
        if self.monitor is not None:
            return self.monitor.status in RUNNING
        return self._run_going

    def train(self) -> Any:
        """Start a run with the form's config (what the Train button does)."""
        if self.on_train is None:
            return self._say(self.tr("no trainer attached: pass monitor= (a LiveMonitor) or on_train="))
        if self.errors:
            return self._say(self.tr("fix the fields marked ⚠ first"))
        if self.running:
            return self._say(self.tr("a run is going: Stop it (or wait for it) first"))
        self._say(self.tr("training started"))
        self._run_going = True
        try:
            result = self.on_train(self.config)
        except BaseException:
            self._run_going = False
            raise
        finally:
            self._update_buttons()
        return result

    def stop(self) -> None:
        """Ask the run to stop after the current step (what the Stop button does)."""
        if self.on_stop is None or not self.running:
            return
        self.on_stop()
        self._run_going = False
        if self.monitor is None or self.monitor.status == "stopping":
            self._say(self.tr("stop requested: the run ends after the current step"))
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.running
        self._train_b.disabled = bool(self.errors) or running
        stopping = self.monitor is not None and self.monitor.status == "stopping"
        self._stop_b.disabled = self.on_stop is None or not running or stopping

    def _monitor_changed(self, change: dict[str, Any]) -> None:
        """The monitor's run moved on (from the training thread): say so beside the buttons."""
        m = self.monitor
        tr = self.tr
        step = tr("step {step}/{max_steps}", step=m._step, max_steps=m.max_steps)
        # A stop reason is the run's record (English); the ones the widgets word are shown translated.
        reason = tr(" ({reason})", reason=tr.term(m.stop_reason)) if m.stop_reason else ""
        messages = {"stopped": tr("stopped at {step}", step=step) + reason,
                    "completed": tr("run completed: {step}", step=step) + reason,
                    "error": tr("the run failed: its error is shown in the monitor")}
        if change["new"] in messages:
            self._say(messages[change["new"]])
        self._update_buttons()

    def _say(self, text: str) -> None:
        self.message = text
        self._message_w.value = f'<span class="{NO_MATH}">{esc(text)}</span>'

    def _try(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except (ConfigError, OSError, RuntimeError) as err:  # shown beside the buttons, not lost in a log
            self._say(f"⚠ {err}")

    # --- static copy --------------------------------------------------------------------
    def to_html(self) -> str:
        rows = [{"setting": name, "value": self.values.get(name), "error": self.errors.get(name, "")}
                for name in self.inputs]
        code = self.yaml if not self.errors else self.tr("(invalid)")
        message = f'<div class="{NO_MATH}">{esc(self.message)}</div>' if self.message else ""
        settings = table(rows, ["setting", "value", "error"], headers=self.tr, empty=self.tr("(none)"))
        return (f'{settings}<pre class="{NO_MATH}">{esc(code)}</pre>'
                f'<pre class="{NO_MATH}">{esc(self.command)}</pre>{message}')

    def __repr__(self) -> str:
        state = f"errors={sorted(self.errors)}" if self.errors else f"changed={self.yaml.strip()!r}"
        return f"HyperparamPanel(fields={len(self.inputs)}, {state})"


def _to_text(value: Any) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)
