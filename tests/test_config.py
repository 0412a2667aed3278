import json

import pytest

from sftkit.config import DEFAULTS, TrainConfig, field_info
from sftkit.errors import ConfigError


def test_defaults_are_valid_and_documented():
    assert TrainConfig().to_dict() == DEFAULTS
    for info in field_info():
        assert info["help"], info["name"]
        if info["choices"]:
            assert info["default"] in info["choices"]


@pytest.mark.parametrize("values, field", [
    ({"lr": -1e-5}, "lr"),
    ({"batch_size": 0}, "batch_size"),
    ({"scheduler": "exponential"}, "scheduler"),
    ({"epochs": "three"}, "epochs"),
    ({"batch_size": 8.5}, "batch_size"),
    ({"group_by_length": "yes"}, "group_by_length"),
    ({"device": "tpu"}, "device"),
    ({"device": "cuda:abc"}, "device"),
    ({"lr": float("nan")}, "lr"),
    ({"epochs": float("inf")}, "epochs"),
])
def test_bad_settings_name_the_field(values, field):
    with pytest.raises(ConfigError, match=f"'{field}'"):
        TrainConfig.from_dict(values)


def test_unknown_setting_suggests_close_names():
    with pytest.raises(ConfigError, match="did you mean batch_size"):
        TrainConfig.from_dict({"batchsize": 8})


def test_yaml_and_json_files(tmp_path):
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("lr: 3e-5\nepochs: 2\nscheduler: cosine\nmax_train_samples: 500\n")
    config = TrainConfig.from_file(yaml_file)
    assert (config.lr, config.epochs, config.scheduler, config.max_train_samples) == (3e-5, 2.0, "cosine", 500)
    json_file = tmp_path / "run.json"
    json_file.write_text(json.dumps({"batch_size": 8}))
    assert TrainConfig.from_file(json_file).batch_size == 8


def test_config_file_cannot_run_code(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("lr: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(ConfigError, match="evil.yaml"):
        TrainConfig.from_file(evil)
    assert not (tmp_path / "pwned").exists()


def test_wrong_type_in_file_names_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("batch_size: lots\n")
    with pytest.raises(ConfigError, match=r"bad.yaml.*'batch_size'"):
        TrainConfig.from_file(bad)


def test_overrides_and_command_round_trip():
    config = TrainConfig().with_overrides(["lr=3e-5", "epochs=1", "run_name=my run", "max_train_samples=null"])
    assert config.lr == 3e-5 and config.epochs == 1.0 and config.run_name == "my run"
    command = config.to_command()
    assert command.startswith("sftkit train ") and "--set lr=3e-05" in command
    import shlex
    args = shlex.split(command)[2:]
    assignments = [args[i + 1] for i in range(0, len(args), 2)]
    assert TrainConfig().with_overrides(assignments) == config


def test_override_needs_key_value():
    with pytest.raises(ConfigError, match="key=value"):
        TrainConfig().with_overrides(["lr"])


def test_yaml_shows_only_changes():
    assert TrainConfig().to_yaml() == "{}\n"
    assert TrainConfig(lr=1e-4).to_yaml().strip() == "lr: 0.0001"


def test_model_typo_refused_before_any_work():
    with pytest.raises(ConfigError, match="setting 'model'.*did you mean minilm"):
        TrainConfig(model="minilmm")
    assert TrainConfig(model="owner/some-model").model == "owner/some-model"  # a hub id: checked when loaded


def test_a_bare_no_in_yaml_is_the_choice_no(tmp_path):
    # YAML 1.1 reads `no` as False; for a setting whose choices include "no" it means that choice.
    path = tmp_path / "c.yaml"
    path.write_text("eval_strategy: no\n")
    assert TrainConfig.from_file(path).eval_strategy == "no"
    assert TrainConfig().with_overrides(["eval_strategy=no"]).eval_strategy == "no"
    with pytest.raises(ConfigError, match="'scheduler' must be str"):
        TrainConfig.from_dict({"scheduler": False})
