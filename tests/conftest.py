"""Shared fixtures: a small synthetic sentiment task that a tiny model learns in seconds."""

from __future__ import annotations

import datasets as hf_datasets
import pytest
from toy_data import make_split

from sftkit.config import TrainConfig


@pytest.fixture(scope="session")
def toy_data() -> hf_datasets.DatasetDict:
    return hf_datasets.DatasetDict({"train": make_split(256, 1), "validation": make_split(64, 2),
                                    "test": make_split(128, 3)})


@pytest.fixture
def tiny_config(tmp_path) -> TrainConfig:
    """Settings under which the tiny model learns the toy task in a few seconds."""
    return TrainConfig(model="tiny", dataset="toy", epochs=4, batch_size=16, lr=5e-3, warmup_ratio=0.1,
                       eval_batch_size=32, log_every=4, output_dir=str(tmp_path / "runs"), run_name="toy")

