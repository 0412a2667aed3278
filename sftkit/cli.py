"""`sftkit train | eval | predict | demo | report`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sftkit.config import TrainConfig
from sftkit.errors import SftkitError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sftkit", description="Supervised fine-tuning you can read.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="fine-tune as a config file and the settings say", formatter_class=_HelpFormatter,
        usage="sftkit train [-h] [--config FILE] [--set KEY=VALUE] [--quiet] [--SETTING VALUE ...]",
        description="Fine-tune as --config says, with any setting changed by --NAME VALUE or --set NAME=VALUE\n"
                    "(applied in command-line order, after the file). The Hugging Face TrainingArguments names\n"
                    "(--learning_rate, --num_train_epochs, ...) are accepted for the settings that have one.")
    train.add_argument("--config", metavar="FILE", help="a .yaml/.yml/.json file of TrainConfig settings")
    _add_overrides(train)
    train.add_argument("--quiet", action="store_true", help="no progress bar or lines")
    _add_settings(train)

    demo = commands.add_parser("demo", help="the default run: MiniLM on Rotten Tomatoes, with a report",
                               formatter_class=_HelpFormatter,
                               usage="sftkit demo [-h] [--set KEY=VALUE] [--SETTING VALUE ...]")
    _add_overrides(demo)
    _add_settings(demo)

    evaluate = commands.add_parser("eval", help="evaluate a saved model (a run folder or its model/)")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--data", default=None, help="dataset (default: the one the run trained on)")
    evaluate.add_argument("--split", default="test")

    predict = commands.add_parser("predict", help="label raw texts with a saved model")
    predict.add_argument("--model", required=True)
    predict.add_argument("texts", nargs="*", help="texts to label (default: one per line from stdin)")

    chat = commands.add_parser("generate", help="reply to prompts with a saved chat model (greedy)")
    chat.add_argument("--model", required=True, help="a chat run folder, its model/, or a causal LM (smollm2)")
    chat.add_argument("--max-new-tokens", type=int, default=64)
    chat.add_argument("prompts", nargs="*", help="user messages (default: one per line from stdin)")

    report = commands.add_parser("report", help="compare run folders side by side, or write a report notebook")
    report.add_argument("runs", nargs="*", help="run folders (default: every run under --dir)")
    report.add_argument("--dir", default="runs")
    report.add_argument("--notebook", metavar="PATH", help="write an executed report notebook (.ipynb) here")
    report.add_argument("--html", metavar="PATH", help="write the report's self-contained HTML export here")
    report.add_argument("--overwrite", action="store_true", help="replace an existing --notebook/--html file")

    args = parser.parse_args(argv)
    try:
        return {"train": _train, "demo": _demo, "eval": _eval, "predict": _predict, "report": _report,
                "generate": _generate}[
            args.command](args)
    except SftkitError as err:
        print(f"sftkit: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nsftkit: interrupted. Nothing half-written is left: the run folder records that it was stopped, "
              "its model and metrics are written only when complete, and a checkpoint (checkpoint_every) is "
              "replaced only by a complete one; continue a checkpointed run with the same command and --resume.",
              file=sys.stderr)
        return 130


def _add_overrides(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override one setting, e.g. --set lr=3e-5 (repeatable)")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Wider option column, so that each setting's help stays on a line or two."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=34, width=110)


class _SettingAction(argparse.Action):
    """`--lr 3e-5` (or its Hugging Face name `--learning_rate 3e-5`) is `--set lr=3e-5`: one list, kept in
    command-line order, so that every way of giving a setting goes through the same parsing and checks."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        name = self.dest.removeprefix("setting_")
        if option_string and option_string != f"--{name}":
            print(f"sftkit: note: {option_string} is sftkit's --{name}", file=sys.stderr)
        namespace.set = [*(namespace.set or []), f"{name}={values}"]


def _add_settings(sub: argparse.ArgumentParser) -> None:
    """One option per TrainConfig setting, its help, default, bounds and choices read from the config's
    metadata (field_info), so the CLI can never disagree with the config or the panel."""
    from sftkit.config import field_info

    groups: dict[str, argparse._ArgumentGroup] = {}
    for info in field_info():
        group = groups.get(info["group"]) or groups.setdefault(
            info["group"], sub.add_argument_group(f"{info['group']} settings"))
        names = [f"--{info['name']}"] + ([f"--{info['hf']}"] if info.get("hf") else [])
        boolean = info["type"] == "bool"
        group.add_argument(*names, dest=f"setting_{info['name']}", action=_SettingAction, default=argparse.SUPPRESS,
                           nargs="?" if boolean else None, const="true" if boolean else None,
                           metavar=_metavar(info), help=_setting_help(info))


def _metavar(info: dict) -> str:
    if info["choices"]:
        return "{" + ",".join(info["choices"]) + "}"
    return {"bool": "true|false", "float": "X", "int": "N"}.get(info["type"], "TEXT")


def _setting_help(info: dict) -> str:
    parts = [info["help"]]
    default = info["default"]
    parts.append(f"default: {'none' if default is None else str(default).lower() if isinstance(default, bool) else default}")
    if info["low"] is not None or info["high"] is not None:
        low = "" if info["low"] is None else f"{info['low']:g}"
        high = "" if info["high"] is None else f"{info['high']:g}"
        parts.append(f"range: {low}..{high}")
    return "; ".join(parts).replace("%", "%%")  # argparse formats help with %


def _config(args: argparse.Namespace) -> TrainConfig:
    config = TrainConfig.from_file(args.config) if getattr(args, "config", None) else TrainConfig()
    return config.with_overrides(args.set) if args.set else config


def _train(args: argparse.Namespace) -> int:
    from sftkit.api import train
    from sftkit.training.callbacks import close_callbacks, console_callback

    config = _config(args)
    callbacks = console_callback(args.quiet)
    try:
        result = train(config, callbacks=callbacks)
    finally:  # a live bar ends its line before any error message or the summary is printed
        close_callbacks(callbacks)
    if result.trainer.dist.is_main:
        metrics = result.metrics
        summary = {"run": str(result.folder) if result.folder else None, "test": metrics["test"],
                   "truncated": metrics["truncated"], "max_length": config.max_length}
        if metrics.get("baseline"):
            summary["baseline"] = {k: metrics["baseline"][k] for k in ("method", "test_accuracy", "test_macro_f1")}
            summary["beats_baseline"] = metrics["baseline_verdict"]["beats"]
        print(json.dumps(summary, indent=2), flush=True)  # before the verdict, also when stdout is a pipe
        # For the person at the terminal (stdout stays one JSON document): the score to beat, and the verdict.
        for line in _baseline_lines(metrics, config.model):
            print(line, file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from sftkit.api import train
    from sftkit.training.callbacks import close_callbacks, console_callback

    config = _config(args)
    started = time.perf_counter()
    callbacks = console_callback()
    try:
        result = train(config, callbacks=callbacks, baseline=True)
    finally:
        close_callbacks(callbacks)
    total = time.perf_counter() - started
    metrics = result.metrics
    print(f"\nsftkit demo: {config.model} fine-tuned on {config.dataset} "
          f"({metrics['train_examples']} train / {metrics['test_examples']} test examples)\n")
    print(result.test.report())
    print(f"\ntest accuracy        {metrics['test']['accuracy']:.1%}  (fine-tuned {config.model})")
    if metrics.get("baseline"):
        base = metrics["baseline"]
        print(f"baseline accuracy    {base['test_accuracy']:.1%}  ({base['method']}, same split, "
              f"macro F1 {base['test_macro_f1']:.3f}, {base['seconds']:.1f} s)")
    print(f"training             {metrics['train_seconds']:.0f} s, {metrics['steps']} steps; "
          f"whole demo {total:.0f} s on {metrics['device']}")
    print(f"truncated examples   {metrics['truncated']} (max_length {config.max_length})")
    print("most confident mistakes:")
    for row in result.test.top_losses(3):
        print(f"  [{row['label']} -> {row['pred']} {row['confidence']:.2f}] {row['text'][:90]}")
    if metrics.get("baseline_verdict"):
        print()
        print("\n".join(_baseline_lines(metrics, config.model, head=False)))
    if result.folder:
        print(f"\nrun folder: {result.folder}  (sftkit report --dir {config.output_dir})")
    return 0


def _baseline_lines(metrics: dict, model: str, *, head: bool = True) -> list[str]:
    """The baseline beside the result and the verdict: when the fine-tune does not beat it, why (from the
    run's own numbers) and the command to try. Nothing for runs without a baseline (chat, baseline off)."""
    base, verdict = metrics.get("baseline"), metrics.get("baseline_verdict")
    if not base or not verdict:
        return []
    lines = []
    if head:
        lines.append(f"baseline: {base['method']} {base['test_accuracy']:.1%} test accuracy (macro F1 "
                     f"{base['test_macro_f1']:.3f}, {base['seconds']:.1f} s, same split); fine-tuned {model} "
                     f"{metrics['test']['accuracy']:.1%}")
    lines.append(verdict["summary"])
    if not verdict["beats"]:
        lines.append("Why, from this run's numbers:")
        lines += [f"  - {reason}" for reason in verdict["reasons"]]
        if verdict["suggestions"]:
            lines.append("Try: " + "; ".join(verdict["suggestions"]))
            lines.append(f"  {verdict['command']}")
    return lines


def _eval(args: argparse.Namespace) -> int:
    """Evaluate a run folder (or its model/) as its task does, by default on the dataset it trained on."""
    from sftkit.api import evaluate

    result = evaluate(args.model, args.data, split=args.split)
    print(result.report())
    print(json.dumps(result.summary(), indent=2))
    return 0


def _predict(args: argparse.Namespace) -> int:
    """One JSON line per text, as the run's task predicts: a label, the tagged entities, or a reply."""
    from sftkit.api import run_predictions

    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for row in run_predictions(args.model, texts):
        print(json.dumps(row))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from sftkit.models.causal_lm import load_causal_lm
    from sftkit.tasks.chat import generate

    folder = Path(args.model)
    name = str(folder / "model") if (folder / "model").is_dir() else args.model
    model, tokenizer = load_causal_lm(name)
    prompts = args.prompts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for prompt, reply in zip(prompts, generate(model, tokenizer, prompts, max_new_tokens=args.max_new_tokens)):
        print(json.dumps({"prompt": prompt, "reply": reply}))
    return 0


# Top-level modules of the `notebooks` extra (and what they bring) that `report --notebook/--html` imports.
_NOTEBOOKS_EXTRA = {"nbclient", "nbconvert", "nbformat", "jupyter_client", "ipykernel", "IPython", "matplotlib",
                    "ipywidgets", "anywidget", "traitlets", "jinja2"}


def _report(args: argparse.Namespace) -> int:
    import tempfile

    from sftkit.runs import compare_runs, format_table, list_runs, load_run

    if args.notebook is None and args.html is None:
        runs = [load_run(p) for p in args.runs] if args.runs else list_runs(args.dir)
        print(format_table(compare_runs(runs)))
        return 0
    try:  # Jupyter-side code: only this option needs it, and the engine never imports it at load time
        import nbclient  # noqa: F401  (executes the notebook)
        import nbconvert  # noqa: F401  (exports the HTML)

        from widgets.report import write_report
    except ImportError as err:
        missing = (err.name or "").split(".")[0]
        if missing not in _NOTEBOOKS_EXTRA:  # a fault inside the package, not a missing install
            raise
        print(f"sftkit: error: report notebooks need the notebooks extra ({missing} is not installed): "
              "pip install 'sftkit[notebooks]'", file=sys.stderr)
        return 2
    folders = [Path(p) for p in args.runs] or [Path(r["path"]) for r in list_runs(args.dir)]
    if not folders:
        print(f"sftkit: error: no finished runs under {args.dir}; name run folders or pass --dir", file=sys.stderr)
        return 2
    html = Path(args.html) if args.html else None
    with tempfile.TemporaryDirectory(prefix="sftkit-report-") as scratch:
        # --html alone: the HTML is the export of a notebook nobody asked to keep, so it is made aside.
        notebook = Path(args.notebook) if args.notebook else Path(scratch) / "report.ipynb"
        written = write_report(folders, notebook=notebook, html=html, overwrite=args.overwrite)
        for kind, path in written.items():
            if args.notebook or kind == "html":
                print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
