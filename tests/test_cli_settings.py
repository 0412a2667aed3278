"""`sftkit train` takes every TrainConfig setting as an option, generated from the config's metadata, and the
Hugging Face TrainingArguments names for the settings that have one."""

from __future__ import annotations

import argparse

import pytest

from sftkit import TrainConfig, field_info
from sftkit.cli import _config, main
from sftkit.config import HF_NAMES
from sftkit.errors import ConfigError


def _train_args(argv: list[str]) -> argparse.Namespace:
    """The parsed `sftkit train` arguments, without running anything."""
    import sftkit.cli as cli

    captured: dict[str, argparse.Namespace] = {}
    original = cli._train
    cli._train = lambda args: captured.setdefault("args", args) and 0  # type: ignore[assignment]
    try:
        main(["train", *argv])
    finally:
        cli._train = original
    return captured["args"]


def test_help_lists_every_setting_with_its_help_default_bounds_and_choices(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare with spaces collapsed
    for info in field_info():
        assert f"--{info['name']}" in text
        assert " ".join(info["help"].split()) in text
        if info["choices"]:
            assert "{" + ",".join(info["choices"]) + "}" in text
    assert "--lr X, --learning_rate X peak learning rate of AdamW; default: 8e-05; range: 1e-08..1" in text
    assert "--scheduler {linear,cosine,constant}, --lr_scheduler_type" in text


def test_options_are_set_overrides_in_command_line_order(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("lr: 1.0e-4\nepochs: 3\n")
    args = _train_args(["--config", str(path), "--lr", "3e-5", "--set", "lr=2e-5", "--batch_size", "8",
                        "--group_by_length", "false", "--overwrite"])
    config = _config(args)
    assert (config.lr, config.epochs, config.batch_size) == (2e-5, 3.0, 8)  # the later --set wins
    assert config.group_by_length is False and config.overwrite is True  # a bare boolean flag is true


def test_hugging_face_names_are_accepted_with_a_note(capsys):
    args = _train_args(["--learning_rate", "3e-5", "--num_train_epochs", "1", "--per_device_train_batch_size", "16",
                        "--gradient_accumulation_steps", "2", "--lr_scheduler_type", "cosine"])
    config = _config(args)
    assert (config.lr, config.epochs, config.batch_size, config.grad_accum_steps, config.scheduler) == \
        (3e-5, 1.0, 16, 2, "cosine")
    err = capsys.readouterr().err
    assert "--learning_rate is sftkit's --lr" in err and "--num_train_epochs is sftkit's --epochs" in err


def test_hugging_face_names_in_config_files_and_set():
    assert TrainConfig.from_dict({"learning_rate": 3e-5, "logging_steps": 5}).lr == 3e-5
    assert TrainConfig().with_overrides(["per_device_eval_batch_size=16"]).eval_batch_size == 16
    with pytest.raises(ConfigError, match="'learning_rate' and 'lr' are the same setting"):
        TrainConfig.from_dict({"learning_rate": 3e-5, "lr": 1e-4})
    assert HF_NAMES["learning_rate"] == "lr" and set(HF_NAMES.values()) <= {f["name"] for f in field_info()}


def test_bad_option_value_names_the_setting(capsys):
    assert main(["train", "--lr", "fast"]) == 2
    assert "setting 'lr' must be a number" in capsys.readouterr().err


def test_config_file_errors_are_wrapped_once(tmp_path):
    bad = tmp_path / "run.txt"
    bad.write_text("lr: 1")
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_file(bad)
    assert str(err.value).count(str(bad)) == 1 and "cannot parse" not in str(err.value)
    binary = tmp_path / "run.yaml"
    binary.write_bytes(b"\xff\xfe\x00lr")
    with pytest.raises(ConfigError, match="cannot parse"):
        TrainConfig.from_file(binary)
