import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.metrics import confusion_matrix as sk_confusion

from sftkit.tasks.metrics import EvalResult, classification_metrics, confusion_matrix, most_confused, top_losses


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 300)
    preds = np.where(rng.random(300) < 0.7, labels, rng.integers(0, 4, 300))
    preds[preds == 3] = 2  # class 3 never predicted: precision defined as 0
    ours = classification_metrics(labels, preds, 4)
    p, r, f, _ = precision_recall_fscore_support(labels, preds, average="macro", zero_division=0)
    assert np.isclose(ours["accuracy"], accuracy_score(labels, preds))
    assert np.allclose([ours["macro_precision"], ours["macro_recall"], ours["macro_f1"]], [p, r, f])
    assert (confusion_matrix(labels, preds, 4) == sk_confusion(labels, preds, labels=range(4))).all()


def test_top_losses_worst_first_and_by_cell():
    labels = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.95, 0.05]])
    losses = -np.log(probs[np.arange(4), labels])
    assert top_losses(losses, 2).tolist() == [3, 1]
    result = EvalResult(float(losses.mean()), {"accuracy": 0.5}, labels, probs.argmax(1), probs, losses,
                        ["neg", "pos"], texts=["a", "b", "c", "d"])
    cell = result.top_losses(5, true=1, pred=0)
    assert [r["text"] for r in cell] == ["d"] and abs(cell[0]["confidence"] - 0.95) < 1e-9
    assert most_confused(result.confusion, ["neg", "pos"]) == [("neg", "pos", 1), ("pos", "neg", 1)]
