"""Token classification: label alignment, BIO spans and entity scores, the made NER data, a short
training run with a tiny model, and the errors that name the row and column."""

from __future__ import annotations

import datasets as hf_datasets
import pytest

import sftkit
from sftkit import DataError, ModelError, TrainConfig, Trainer
from sftkit.data.batches import IGNORE_INDEX
from sftkit.data.files import column
from sftkit.data.made import NER_TAGS, made_ner
from sftkit.tasks.tokens import (
    TokenClassificationTask,
    bio_spans,
    encode_words,
    entity_scores,
    format_entities,
    load_token_classifier,
    predict_tags,
    split_words,
    tiny_token_classifier,
)


@pytest.fixture(scope="module")
def tiny():
    return tiny_token_classifier(NER_TAGS, seed=0)


@pytest.fixture(scope="module")
def ner():
    return made_ner(n_train=240, n_validation=60, n_test=60, seed=1)


def _data(tokens, tags, name="made_ner"):
    features = hf_datasets.Features({"tokens": hf_datasets.Sequence(hf_datasets.Value("string")),
                                     "tags": hf_datasets.Sequence(hf_datasets.ClassLabel(names=NER_TAGS))})
    info = hf_datasets.DatasetInfo(dataset_name=name, features=features)
    ds = hf_datasets.Dataset.from_dict({"tokens": tokens, "tags": tags}, features=features, info=info)
    return hf_datasets.DatasetDict({"train": ds, "validation": ds})


# --- alignment ----------------------------------------------------------------------------

def test_only_the_first_sub_token_of_each_word_is_labelled(tiny):
    _, tokenizer = tiny
    words = ["Tomasz", "Duarte", "joined", "Lumen", "Labs", "."]
    tags = [NER_TAGS.index(t) for t in ["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "O"]]
    enc = encode_words([words], [tags], tokenizer, 64)
    pieces = tokenizer.convert_ids_to_tokens(enc.input_ids[0])
    aligned = [(piece, NER_TAGS[label] if label != IGNORE_INDEX else None)
               for piece, label in zip(pieces, enc.token_labels[0])]
    assert aligned == [("[CLS]", None), ("tomas", "B-PER"), ("##z", None), ("du", "I-PER"), ("##arte", None),
                       ("joined", "O"), ("lu", "B-ORG"), ("##men", None), ("labs", "I-ORG"), (".", "O"),
                       ("[SEP]", None)]
    assert enc.word_starts[0] == [1, 3, 5, 6, 8, 9]
    assert enc.n_truncated == 0


def test_truncated_rows_are_kept_and_counted(tiny):
    _, tokenizer = tiny
    words = [["word"] * 30, ["short", "one"]]
    enc = encode_words(words, [[0] * 30, [0, 0]], tokenizer, 12)
    assert len(enc) == 2 and enc.truncated.tolist() == [True, False] and enc.n_truncated == 1
    assert len(enc.input_ids[0]) == 12 and len(enc.word_starts[0]) == 10  # [CLS] + 10 words + [SEP]


def test_collator_pads_tags_with_ignore(tiny):
    _, tokenizer = tiny
    data = _data([["Ada", "Okafor", "left", "."], ["Hi"]], [[1, 2, 0, 0], [0]])
    task = TokenClassificationTask(data)
    enc = task.encode(data["train"], tokenizer, 32)
    batch = task.collator(enc)([0, 1])
    assert batch["labels"].shape == batch["input_ids"].shape
    assert batch["labels"][1].tolist()[:3] == [IGNORE_INDEX, 0, IGNORE_INDEX]
    assert (batch["labels"][1][batch["attention_mask"][1] == 0] == IGNORE_INDEX).all()


# --- spans and scores -----------------------------------------------------------------------

def test_bio_spans():
    assert bio_spans(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 2), ("LOC", 3, 4)]
    assert bio_spans(["B-PER", "B-PER", "I-PER"]) == [("PER", 0, 1), ("PER", 1, 3)]
    # Broken BIO as models write it: I- after O or after another type starts an entity (conlleval).
    assert bio_spans(["O", "I-ORG", "I-ORG", "I-LOC"]) == [("ORG", 1, 3), ("LOC", 3, 4)]
    assert bio_spans(["B-ORG", "I-LOC"]) == [("ORG", 0, 1), ("LOC", 1, 2)]
    assert bio_spans(["O", "O"]) == [] and bio_spans([]) == []


def test_entity_scores_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "O", "B-PER"]]
    pred = [["B-PER", "O", "O", "B-LOC"],  # PER cut short: a miss and a false entity; LOC right
            ["B-ORG", "I-ORG", "O", "B-LOC"]]  # ORG right; PER tagged as LOC
    overall, per_type = entity_scores(gold, pred, ["PER", "ORG", "LOC"])
    # 4 true entities, 4 predicted, 2 right (LOC in sentence 1, ORG in sentence 2).
    assert overall["precision"] == overall["recall"] == overall["f1"] == 0.5
    assert per_type["PER"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert per_type["ORG"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert per_type["LOC"]["precision"] == 0.5 and per_type["LOC"]["recall"] == 1.0
    assert per_type["LOC"]["f1"] == pytest.approx(2 / 3)
    assert overall["macro_f1"] == pytest.approx((0 + 1 + 2 / 3) / 3)
    assert entity_scores(gold, gold)[0]["f1"] == 1.0
    with pytest.raises(ValueError, match="sentence 1: 4 gold tags but 3"):
        entity_scores(gold, [gold[0], gold[1][:3]])


def test_format_and_split_words():
    words = split_words("Ada Okafor joined Lumen Labs in Rio de Janeiro.")
    assert words == ["Ada", "Okafor", "joined", "Lumen", "Labs", "in", "Rio", "de", "Janeiro", "."]
    tags = ["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "O", "B-LOC", "I-LOC", "I-LOC", "O"]
    assert format_entities(words, tags) == "[PER Ada Okafor] joined [ORG Lumen Labs] in [LOC Rio de Janeiro] ."


# --- the made data --------------------------------------------------------------------------

def test_made_ner_is_seeded_labelled_as_made_and_has_unseen_names(ner):
    again = made_ner(n_train=240, n_validation=60, n_test=60, seed=1)
    assert column(ner["test"], "tokens") == column(again["test"], "tokens")
    assert set(column(ner["train"], "source")) == {ner["train"].info.description}
    assert "made" in ner["train"].info.description and "not real text" in ner["train"].info.description
    assert ner["train"].features["tags"].feature.names == NER_TAGS
    train_names = set()
    for words, tags in zip(column(ner["train"], "tokens"), column(ner["train"], "tags")):
        train_names.update(tuple(words[s:e]) for _, s, e in bio_spans([NER_TAGS[t] for t in tags]))
    unseen = [tuple(w[s:e]) for w, t in zip(column(ner["test"], "tokens"), column(ner["test"], "tags"))
              for _, s, e in bio_spans([NER_TAGS[i] for i in t]) if tuple(w[s:e]) not in train_names]
    assert len(unseen) > 20
    assert sum(column(ner["test"], "new_names")) == len(unseen)
    assert set(column(ner["train"], "new_names")) == {0}


def test_made_ner_is_a_zoo_dataset():
    assert "made_ner" in sftkit.data.zoo.DATASETS
    data = sftkit.load_dataset("made_ner")
    assert {k: len(v) for k, v in data.items()} == {"train": 500, "validation": 100, "test": 200}


# --- training -------------------------------------------------------------------------------

def test_short_training_run_lowers_the_validation_loss(ner, tmp_path):
    model, tokenizer = tiny_token_classifier(NER_TAGS, seed=0)
    config = TrainConfig(model="tiny", epochs=3, batch_size=16, lr=3e-3, warmup_ratio=0.1, eval_batch_size=64,
                         metric_for_best="macro_f1", log_every=5, output_dir=str(tmp_path))
    trainer = Trainer(model, tokenizer, config, ner, task=TokenClassificationTask(ner))
    before = trainer.evaluate("validation")
    trainer.fit()
    after = trainer.evaluate("validation")
    assert after.loss < before.loss * 0.7
    assert after.metrics["accuracy"] > before.metrics["accuracy"]
    assert set(after.summary()) >= {"loss", "accuracy", "macro_f1", "macro_precision", "macro_recall", "f1"}
    assert any("eval_macro_f1" in r for r in trainer.state.log_history)
    assert list(after.per_type) == ["PER", "ORG", "LOC"]
    assert "macro avg" in after.report() and "token accuracy" in after.report()
    assert len(after.preds) == len(ner["validation"]) and all(
        len(p) == len(w) for p, w in zip(after.preds, after.words))
    assert after.show(0).startswith("true: ")
    tagged = predict_tags(model, tokenizer, ["Ada Okafor flew to Lisbon.", ["Hello", "there"]])
    assert [w for w, _ in tagged[0]] == ["Ada", "Okafor", "flew", "to", "Lisbon", "."]
    assert all(t in NER_TAGS for _, t in tagged[0]) and len(tagged[1]) == 2


# --- errors ---------------------------------------------------------------------------------

def test_row_errors_name_the_row_and_column():
    tokens = [["a", "b"]] * 11 + [["Ada", "Okafor", "went", "to", "Oslo", "."]]
    tags = [[0, 0]] * 11 + [[1, 2, 0, 0, 5]]
    with pytest.raises(DataError, match=r"made_ner \(train\): row 12, column 'tags': 5 tags for 6 tokens"):
        TokenClassificationTask(_data(tokens, tags))
    with pytest.raises(DataError, match=r"row 2, column 'tokens': word 2 is ' '"):
        TokenClassificationTask(_data([["a"], ["a", " "]], [[0], [0, 0]]))
    with pytest.raises(DataError, match=r"row 1, column 'tokens': expected a non-empty list"):
        TokenClassificationTask(_data([[]], [[]]))


def test_data_shape_errors():
    plain = hf_datasets.DatasetDict({"train": hf_datasets.Dataset.from_dict({"text": ["a"], "label": [0]})})
    with pytest.raises(DataError, match="needs a 'tokens' column"):
        TokenClassificationTask(plain)
    features = hf_datasets.Features({"tokens": hf_datasets.Sequence(hf_datasets.Value("string")),
                                     "tags": hf_datasets.Sequence(hf_datasets.ClassLabel(names=["O", "PER"]))})
    odd = hf_datasets.Dataset.from_dict({"tokens": [["a"]], "tags": [[0]]}, features=features)
    with pytest.raises(DataError, match="tag 'PER' is not in the BIO scheme"):
        TokenClassificationTask(hf_datasets.DatasetDict({"train": odd}))
    with pytest.raises(DataError, match="no 'train' split"):
        TokenClassificationTask(hf_datasets.DatasetDict({"test": odd}))


def test_a_word_without_tokens_is_refused(tiny):
    _, tokenizer = tiny
    with pytest.raises(DataError, match=r"row 1, column 'tokens': word 2 \('\\u200b'\) gives no token"):
        encode_words([["a", "\u200b", "b"]], [[0, 0, 0]], tokenizer, 32, source="made_ner")


def test_model_name_errors():
    with pytest.raises(ModelError, match="not a zoo model"):
        load_token_classifier("minlm", NER_TAGS)
    model, _ = load_token_classifier("tiny", NER_TAGS)
    assert model.config.id2label[1] == "B-PER" and model.config.num_labels == 7
