import math

import pytest
import torch

from sftkit import EVENTS, Callback, Trainer, TrainingError, tiny_classifier, train
from sftkit.api import tfidf_baseline


def _fit(config, data, callbacks=()):
    model, tokenizer = tiny_classifier(["negative", "positive"], seed=config.seed)
    trainer = Trainer(model, tokenizer, config, data, callbacks=callbacks)
    trainer.fit()
    return trainer


def test_tiny_model_learns_the_task(toy_data, tiny_config):
    trainer = _fit(tiny_config, toy_data)
    result = trainer.evaluate("test")
    assert result.metrics["accuracy"] > 0.9  # chance is 0.5
    history = trainer.state.log_history
    train_losses = [r["train_loss"] for r in history if "train_loss" in r]
    assert train_losses[-1] < train_losses[0] * 0.5
    assert all({"lr", "examples_per_s", "tokens_per_s", "epoch", "step"} <= set(r) for r in history
               if "train_loss" in r)
    assert [r["epoch"] for r in history if "eval_accuracy" in r] == [1.0, 2.0, 3.0, 4.0]


def test_same_seed_same_metrics(toy_data, tiny_config):
    def losses(trainer):
        return [(r["step"], r.get("train_loss"), r.get("eval_loss")) for r in trainer.state.log_history]

    first, second = _fit(tiny_config, toy_data), _fit(tiny_config, toy_data)
    assert losses(first) == losses(second)
    assert first.evaluate("test").metrics == second.evaluate("test").metrics
    other = _fit(tiny_config.with_overrides({"seed": 7}), toy_data)
    assert losses(other) != losses(first)


def test_gradient_accumulation_matches_larger_batch(toy_data, tiny_config):
    # Without dropout and with the same data order, 2 x 8 accumulated equals 1 x 16.
    def run(batch, accum):
        config = tiny_config.with_overrides({"batch_size": batch, "grad_accum_steps": accum, "epochs": 1,
                                             "group_by_length": False, "eval_strategy": "no",
                                             "precision": "fp32"})
        model, tokenizer = tiny_classifier(["negative", "positive"], seed=0)
        model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = 0.0
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        trainer = Trainer(model, tokenizer, config, toy_data)
        trainer._train_batches = lambda epoch: [list(range(i, i + batch)) for i in range(0, 256, batch)]
        trainer.fit()
        return [p.detach().clone() for p in model.parameters()]

    for a, b in zip(run(16, 1), run(8, 2)):
        assert torch.allclose(a, b, atol=1e-5)


def test_events_fire_in_order(toy_data, tiny_config):
    seen = []

    class Spy(Callback):
        pass

    for name in EVENTS:
        setattr(Spy, name, lambda self, *a, _n=name, **k: seen.append(_n))
    _fit(tiny_config.with_overrides({"epochs": 1}), toy_data, [Spy()])
    assert seen[0] == "on_fit_start" and seen[-1] == "on_fit_end"
    assert seen.index("on_epoch_start") < seen.index("on_step_end") < seen.index("on_evaluate")
    assert seen.count("on_step_end") == 16


def test_early_stopping_and_best_model(toy_data, tiny_config):
    # With lr 0 nothing improves after the first evaluation: stop after `patience` more.
    config = tiny_config.with_overrides({"lr": 1e-8, "epochs": 10, "early_stopping_patience": 2})
    trainer = _fit(config, toy_data)
    assert trainer.state.stop_reason.startswith("early stopping")
    assert len([r for r in trainer.state.log_history if "eval_accuracy" in r]) == 3


def test_best_weights_restored(toy_data, tiny_config):
    class Sabotage(Callback):
        # After the last evaluation, wreck the weights: the best ones must come back at the end.
        def on_epoch_end(self, trainer, state, control):
            if state.step == state.max_steps:
                with torch.no_grad():
                    for p in trainer.model.parameters():
                        p.add_(torch.randn_like(p))
                state.step += 1  # the wrecked weights are not the evaluated ones

    trainer = _fit(tiny_config, toy_data, [Sabotage()])
    assert trainer.evaluate("validation").metrics["accuracy"] == trainer.state.best_metric


def test_non_finite_loss_names_the_step(toy_data, tiny_config):
    class Poison(Callback):
        def on_step_end(self, trainer, state, control):
            if state.step == 5:
                with torch.no_grad():
                    next(trainer.model.parameters()).fill_(math.nan)

    # Poisoned after step 5: step 6 is the first non-finite loss, though the check runs at step 8 (a log step).
    with pytest.raises(TrainingError, match="training loss became nan at step 6;"):
        _fit(tiny_config, toy_data, [Poison()])


def test_train_api_writes_a_run_folder(toy_data, tiny_config):
    model = tiny_classifier(["negative", "positive"], seed=0)
    result = train(tiny_config, data=toy_data, model=model, baseline=True)
    assert result.folder.name == "toy"
    for name in ("config.json", "metrics.json", "log_history.json", "model/model.safetensors",
                 "model/tokenizer.json", "model/sftkit.json"):
        assert (result.folder / name).exists(), name
    assert result.metrics["test"]["accuracy"] == result.test.metrics["accuracy"]
    assert result.metrics["baseline_tfidf_accuracy"] == tfidf_baseline(toy_data)
    assert not [p for p in result.folder.parent.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_evaluate_every_n_steps(toy_data, tiny_config):
    trainer = _fit(tiny_config.with_overrides({"eval_strategy": "steps", "eval_steps": 5, "epochs": 1}), toy_data)
    assert [r["step"] for r in trainer.state.log_history if "eval_loss" in r] == [5, 10, 15]


def test_interrupted_save_leaves_no_model_folder(tmp_path, toy_data, tiny_config):
    from sftkit.runs import RunRecorder, save_run

    class Broken:
        config = type("C", (), {"id2label": {0: "a"}})()

        def save_pretrained(self, *a, **k):
            raise KeyboardInterrupt  # Ctrl-C half-way through writing the weights

    RunRecorder(tmp_path / "run").start(tiny_config)
    before = sorted(p.name for p in (tmp_path / "run").iterdir())
    with pytest.raises(KeyboardInterrupt):
        save_run(tmp_path / "run", config=tiny_config, metrics={}, log_history=[], model=Broken(), tokenizer=None)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == before  # no model/, no metrics, no temporaries


def test_adamw_is_fused_where_torch_has_the_kernel():
    from sftkit.training.trainer import build_optimizer, can_fuse

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    optimizer = build_optimizer(model, 1e-3, 0.01)
    assert optimizer.defaults["fused"] is True
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.01, 0.0]  # biases and norms undecayed
    assert not can_fuse([torch.nn.Parameter(torch.zeros(2, device="meta"))])  # no kernel there: foreach
    assert not can_fuse([])


def test_checkpoint_settings_act_on_a_bare_trainer_as_through_train(toy_data, tiny_config, tmp_path):
    """checkpoint_every, resume and lora_r mean the same on Trainer(...).fit() as through train(): a bare Trainer
    writes and reads its checkpoints in checkpoint_dir, and refuses the settings, by name, without one."""
    from sftkit import ConfigError
    from sftkit.models.lora import is_lora
    from sftkit.training.checkpoint import load_checkpoint

    model, tokenizer = tiny_classifier(["negative", "positive"], seed=tiny_config.seed)
    for settings in ({"checkpoint_every": 5}, {"resume": True, "run_name": "toy"}):
        with pytest.raises(ConfigError, match=f"setting '{next(iter(settings))}' needs a checkpoint folder"):
            Trainer(model, tokenizer, tiny_config.with_overrides(settings), toy_data)

    folder = tmp_path / "checkpoint"
    stopping = tiny_config.with_overrides({"checkpoint_every": 5, "epochs": 1.0})
    first = Trainer(model, tokenizer, stopping, toy_data, checkpoint_dir=folder)
    first.fit()
    saved = load_checkpoint(folder)["state"]["step"]
    assert saved > 0 and saved % 5 == 0

    longer = stopping.with_overrides({"resume": True, "run_name": "toy", "epochs": 1.0})
    model2, _ = tiny_classifier(["negative", "positive"], seed=tiny_config.seed)
    resumed = Trainer(model2, tokenizer, longer, toy_data, checkpoint_dir=folder)
    resumed.fit()
    assert resumed.state.step == first.state.step  # continued from the checkpoint to the same end
    assert [r for r in resumed.state.log_history if r["step"] <= saved] == \
        [r for r in first.state.log_history if r["step"] <= saved]

    lora = Trainer(*tiny_classifier(["negative", "positive"]), tiny_config.with_overrides(
        {"lora_r": 2, "lora_targets": "query,value"}), toy_data)
    assert is_lora(lora.model)


def test_state_dict_carries_a_run_across_trainers_without_files(toy_data, tiny_config):
    """The trainer owns its resumable state: a state_dict taken mid-run (deep-copied, as a checkpoint would
    hold it) and loaded into a fresh trainer continues to the uninterrupted run's history and weights."""
    import copy

    from sftkit import ConfigError

    class Snapshot(Callback):
        def __init__(self, at: int) -> None:
            self.at, self.taken = at, None

        def on_step_end(self, trainer, state, control):
            if state.step == self.at:
                self.taken = copy.deepcopy(trainer.state_dict())

    config = tiny_config.with_overrides({"epochs": 2.0, "log_every": 1})
    snapshot = Snapshot(at=7)
    whole = _fit(config, toy_data, callbacks=[snapshot])
    taken = snapshot.taken
    assert taken["state"]["step"] == 7 and taken["position"]["micro"] > 0  # mid-epoch: the position matters
    assert {"state", "position", "window", "model", "optimizer", "best", "scheduler", "scaler", "rng",
            "config"} <= set(taken)

    model, tokenizer = tiny_classifier(["negative", "positive"], seed=99)  # other weights: the state brings them
    resumed = Trainer(model, tokenizer, config, toy_data)
    resumed.fit(resume_from=taken)
    def untimed(history):  # wall-clock figures differ between any two runs
        return [{k: v for k, v in r.items() if not k.endswith("_per_s") and k != "elapsed_s"} for r in history]

    assert untimed(resumed.state.log_history) == untimed(whole.state.log_history)
    for name, weight in whole.model.state_dict().items():
        assert torch.equal(weight, resumed.model.state_dict()[name]), name

    changed = copy.deepcopy(taken)
    changed["config"]["lr"] = 1.0
    with pytest.raises(ConfigError, match="settings differ from the checkpoint's: lr"):
        Trainer(*tiny_classifier(["negative", "positive"]), config, toy_data).fit(resume_from=changed)


def test_loop_state_objects_round_trip():
    from sftkit.training.distributed import Distributed
    from sftkit.training.loop_state import LogWindow, LoopPosition, RandomState

    position = LoopPosition(3, 5)
    again = LoopPosition()
    again.load_state_dict(position.state_dict())
    assert again == position

    one = Distributed.from_env("cpu")
    window = LogWindow(torch.device("cpu"))
    window.add(torch.tensor(2.0), step=1)
    window.add(torch.tensor(float("nan")), step=2)
    window.examples, window.tokens = 8, 100
    saved = window.state_dict(one)
    assert saved["micro"] == 2 and saved["examples"] == 8 and int(window.first_bad) == 2  # the first bad step
    restored = LogWindow(torch.device("cpu"))
    restored.load_state_dict({**saved, "loss": torch.tensor(3.0)})
    assert restored.totals(one) == [3.0, 2.0, 8.0, 100.0]
    other_rank = LogWindow(torch.device("cpu"))
    other_rank.load_state_dict(saved, holds_sums=False)  # rank 0 alone carries the sums
    assert other_rank.totals(one) == [0.0, 0.0, 0.0, 0.0]

    state = RandomState.state_dict()
    first = torch.rand(3)
    RandomState.load_state_dict(state)
    assert torch.equal(torch.rand(3), first)
