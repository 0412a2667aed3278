"""Tagged words from the user's own files: JSONL, CSV, CoNLL and save_to_disk folders, checked by row and
column, split like the zoo, and trained with task tokens from the CLI."""

from __future__ import annotations

import json

import datasets as hf_datasets
import pytest

from sftkit import DataError, TrainConfig, train
from sftkit.cli import main
from sftkit.data.made import made_ner
from sftkit.data.tagged import load_tagged, tag_names


def _sentences(n: int = 60) -> list[dict[str, list[str]]]:
    """The first n sentences of the zoo's made_ner, as words and tag names."""
    train = made_ner()["train"]
    names = train.features["tags"].feature.names
    return [{"tokens": row["tokens"], "tags": [names[t] for t in row["tags"]]} for row in train.select(range(n))]


def test_jsonl_is_read_checked_and_split(tmp_path):
    rows = _sentences(60)
    path = tmp_path / "ner.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = load_tagged(path)
    assert [len(data[s]) for s in ("train", "validation", "test")] == [42, 6, 12]
    names = data["train"].features["tags"].feature.names
    assert names == tag_names({t for r in rows for t in r["tags"]}) and names[0] == "O"
    # Every sentence comes back exactly once, with its tags.
    back = {" ".join(r["tokens"]): [names[t] for t in r["tags"]] for s in data.values() for r in s}
    assert back == {" ".join(r["tokens"]): r["tags"] for r in rows}
    assert load_tagged(path)["test"]["tokens"][:] == data["test"]["tokens"][:]  # the split is seeded


def test_csv_conll_and_saved_folders_read_the_same_sentences(tmp_path):
    rows = _sentences(20)
    csv = tmp_path / "ner.csv"
    csv.write_text("tokens,tags\n" + "".join(f"\"{' '.join(r['tokens'])}\",{' '.join(r['tags'])}\n" for r in rows))
    conll = tmp_path / "train.conll"
    conll.write_text("-DOCSTART- O\n\n" + "\n\n".join("\n".join(f"{w} {t}" for w, t in zip(r["tokens"], r["tags"]))
                                                       for r in rows) + "\n")
    folder = tmp_path / "saved"
    load_tagged(csv).save_to_disk(str(folder))

    def sentences(data: hf_datasets.DatasetDict) -> set[tuple[str, ...]]:
        names = data["train"].features["tags"].feature.names
        return {tuple(f"{w}/{names[t]}" for w, t in zip(r["tokens"], r["tags"])) for s in data.values() for r in s}

    expected = {tuple(f"{w}/{t}" for w, t in zip(r["tokens"], r["tags"])) for r in rows}
    assert sentences(load_tagged(csv)) == expected
    assert sentences(load_tagged(conll)) == expected
    assert sentences(load_tagged(folder)) == expected


@pytest.mark.parametrize("row, message", [
    ({"tokens": ["Ada", "smiled"], "tags": ["B-PER"]}, r"row 2: 2 words in 'tokens' but 1 tags in 'tags'"),
    ({"tokens": ["Ada", "smiled"], "tags": ["PER", "O"]}, r"row 2, column 'tags': 'PER' is not O, B-TYPE or I-TYPE"),
    ({"tokens": [], "tags": []}, r"row 2, column 'tokens': no words"),
    ({"tokens": ["Ada", 3], "tags": ["B-PER", "O"]}, r"row 2, column 'tokens': expected a list of strings"),
    ({"words": ["Ada"], "tags": ["B-PER"]}, r"row 2, column 'tokens': missing"),
])
def test_bad_rows_are_named_by_file_row_and_column(tmp_path, row, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"tokens": ["Ada", "smiled"], "tags": ["B-PER", "O"]}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError, match=message) as err:
        load_tagged(path)
    assert str(err.value).startswith(f"{path}: ")  # the file first, then the row and column


def test_a_file_without_the_columns_is_refused_naming_them(tmp_path):
    path = tmp_path / "words.jsonl"
    path.write_text(json.dumps({"words": ["Ada"], "labels": ["B-PER"]}) + "\n")
    with pytest.raises(DataError, match=r"words.jsonl: no 'tokens' column \(columns: \['words', 'labels'\]\)"):
        load_tagged(path)


def test_bad_conll_lines_are_named(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text("Ada B-PER\nsmiled O\n\nLumen\n")
    with pytest.raises(DataError, match=r"train.conll: line 4: expected a word and its tag"):
        load_tagged(path)
    path.write_text("Ada B-PER\nsmiled X-ORG\n")
    with pytest.raises(DataError, match=r"train.conll: line 2: tag 'X-ORG' is not O, B-TYPE or I-TYPE"):
        load_tagged(path)


def test_task_tokens_trains_on_a_local_file_and_predicts_from_the_cli(tmp_path, capsys):
    path = tmp_path / "ner.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _sentences(300)))
    config = TrainConfig(task="tokens", dataset=str(path), model="tiny", epochs=4, batch_size=16, lr=3e-3,
                         max_length=32, output_dir=str(tmp_path / "runs"), run_name="local", baseline=False)
    result = train(config)
    assert result.metrics["test"]["f1"] > 0.5  # a tiny model learns the made templates' names (0.74 here)
    assert main(["predict", "--model", str(result.folder), "Ada Okafor joined Lumen Labs in Lisbon ."]) == 0
    out = capsys.readouterr().out
    assert "Ada" in out
