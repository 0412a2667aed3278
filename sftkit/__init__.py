"""sftkit: supervised fine-tuning you can read, in Jupyter and in the terminal.

    from sftkit import TrainConfig, train
    result = train(TrainConfig(epochs=1))
    print(result.test.report())
"""

from sftkit.api import RunResult, evaluate, predict, prepare_data, stratified_subset, tfidf_baseline, train
from sftkit.assets import load_dataset, load_model
from sftkit.callbacks import BestModel, ConsoleProgress, EarlyStopping, Recorder
from sftkit.causal_lm import load_causal_lm, tiny_causal_lm
from sftkit.config import TrainConfig, field_info
from sftkit.errors import AssetMissingError, ConfigError, DataError, ModelError, SftkitError, TrainingError
from sftkit.events import EVENTS, Callback, TrainerControl, TrainerState
from sftkit.metrics import EvalResult
from sftkit.models import load_classifier, load_trained, tiny_classifier
from sftkit.runs import compare_runs, list_runs, load_run
from sftkit.trainer import Trainer

__version__ = "0.1.0"

__all__ = [
    "EVENTS", "AssetMissingError", "BestModel", "Callback", "ConfigError", "ConsoleProgress", "DataError",
    "EarlyStopping", "EvalResult", "ModelError", "Recorder", "RunResult", "SftkitError", "TrainConfig",
    "Trainer", "TrainerControl", "TrainerState", "TrainingError", "compare_runs", "evaluate", "field_info",
    "list_runs", "load_classifier", "load_dataset", "load_model", "load_run", "load_trained", "predict",
    "prepare_data", "stratified_subset", "tfidf_baseline", "tiny_classifier", "train",
    "load_causal_lm", "tiny_causal_lm",
]
