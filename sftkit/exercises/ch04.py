"""Chapter 4 (the math of one fine-tuning step): checks for its exercises.

The references are computed here with torch autograd on the chapter's 2-3-1 network (x = [1, 0], y = 1,
sigmoid units, L = ½(ŷ − y)² summed over the batch; exercises 3 and 7 use binary cross-entropy), in float64.
Gradients are passed as a dict {"W1": (3, 2), "b1": (3,), "W2": (1, 3), "b2": (1,)} of numpy arrays, tensors or
nested lists.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sftkit.exercises.core import (
    Problem,
    as_array,
    as_number,
    choice,
    compare_arrays,
    compare_gradients,
    problem,
    questions,
    translations,
)

# The chapter's made-up weights (04_math.ipynb, section 1).
W1 = [[0.2, -0.4], [0.7, 0.1], [-0.5, 0.3]]
B1 = [0.1, -0.2, 0.05]
W2 = [[0.6, -0.3, 0.8]]
B2 = [0.1]
X = [1.0, 0.0]

MESSAGES = {
    "en": {
        "q1.prompt": "With the label y = 0 (x = [1, 0], MSE loss ½(ŷ − y)²), pass the gradients "
                     "{'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}.",
        "q1.hint1": "Only δ₂ = (ŷ − y)·σ'(z₂) changes: ŷ is the same 0.6386, y is now 0.",
        "q1.hint2": "Every gradient is proportional to δ₂, so all non-zero entries flip sign; the second column "
                    "of W1 stays 0.",
        "q1.solution": "grads = backward(x, 0.0, 'mse')   # the chapter's hand-written backward pass\n"
                       "# or with autograd: loss = 0.5 * ((torch_forward(p, xt) - torch.tensor([0.0])) ** 2).sum()\n"
                       "# dL/dW2 = [[0.0847, 0.0918, 0.0574]], dL/db2 = [0.1475]: every sign flips against y = 1.",
        "q1.correct": "Right: δ₂ changes sign, and every gradient with it (the zero column of W1 stays zero).",
        "q2.prompt": "Replace the hidden sigmoid by ReLU (the output stays a sigmoid; x = [1, 0], y = 1, MSE) and "
                     "pass the gradients {'W1', 'b1', 'W2', 'b2'}.",
        "q2.hint1": "σ'(z₁) becomes ReLU'(z₁): 1 where z₁ > 0, else 0. And a₁ = max(z₁, 0).",
        "q2.hint2": "z₁ = [0.3, 0.5, −0.45]: the third hidden unit is off, so its row of W1 and its b1 entry get "
                    "no gradient.",
        "q2.solution": "a1 = np.maximum(z1, 0); y_hat = sigmoid(W2 @ a1 + b2)\n"
                       "delta2 = (y_hat - y) * y_hat * (1 - y_hat)\n"
                       "delta1 = (W2.T @ delta2) * (z1 > 0)\n"
                       "grads = {'W1': np.outer(delta1, x), 'b1': delta1, 'W2': np.outer(delta2, a1), 'b2': delta2}",
        "q2.correct": "Right: σ' became the step 1[z₁ > 0], and the third hidden unit (z₁ = −0.45) gets no gradient.",
        "q3.prompt": "Cross-entropy: pass δ₂ = ∂L/∂z₂ for the chapter's example (a number), or a function "
                     "delta2(y_hat, y) that computes it.",
        "q3.hint1": "L = −[y log ŷ + (1 − y) log(1 − ŷ)], ŷ = σ(z₂); dL/dŷ = (ŷ − y) / (ŷ(1 − ŷ)).",
        "q3.hint2": "Multiply by σ'(z₂) = ŷ(1 − ŷ): it cancels the denominator.",
        "q3.solution": "def delta2(y_hat, y):\n    return y_hat - y   # σ'(z2) cancels: -0.3614 for the chapter's example",
        "q3.correct": "Right: with cross-entropy δ₂ = ŷ − y, the σ'(z₂) cancels.",
        "q3.not_number_or_function": "Pass a number (δ₂ for the chapter's example) or a function delta2(y_hat, y).",
        "q3.delta_at": "At ŷ = {y_hat:.4f}, y = {y:g} your δ₂ is {got:.6g}, which autograd does not confirm.",
        "q3.delta_value": "δ₂ = {got:.6g} is not what autograd gives for ŷ = {y_hat:.4f}, y = 1.",
        "q3.delta_mse": "δ₂ = {got:.6g} is the MSE form (ŷ − y)σ'(z₂); with cross-entropy the σ' cancels "
                        "(check it with autograd).",
        "q3.delta_sign": "δ₂ = {got:.6g} has the wrong sign: δ₂ = ŷ − y, not y − ŷ (autograd: {want:.6g}).",
        "q4.prompt": "Batch X = [[1, 0], [0, 1]], y = [1, 0], L = Σᵢ ½(ŷᵢ − yᵢ)² (summed over the batch), "
                     "forward pass X @ W1.T: pass ∂L/∂W1, shape (3, 2).",
        "q4.hint1": "Stack the examples as rows: Z1 = X @ W1.T + b1, shape (2, 3); Δ1 has one row per example.",
        "q4.hint2": "∂L/∂W1 = Δ1.T @ X: the matrix product sums the per-example outer products δ₁ xᵀ.",
        "q4.solution": "Xt = torch.tensor([[1.0, 0.0], [0.0, 1.0]]); yt = torch.tensor([1.0, 0.0])\n"
                       "p = torch_params()\n"
                       "a1 = torch.sigmoid(Xt @ p['W1'].T + p['b1'])\n"
                       "y_hat = torch.sigmoid(a1 @ p['W2'].T + p['b2'])[:, 0]\n"
                       "(0.5 * ((y_hat - yt) ** 2).sum()).backward()\n"
                       "p['W1'].grad   # = Delta1.T @ X, the sum over the batch",
        "q4.correct": "Right: ∂L/∂W1 = Δ1ᵀ X sums the examples' outer products; each column here comes from one "
                      "example.",
        "q4.mean": "That is the mean over the batch (half the sum): this exercise sums the loss over the batch.",
        "q4.one_example": "That is example {index}'s gradient alone: the sum over the batch is missing.",
        "q4.transposed": "That is Xᵀ Δ1, shape (2, 3), transposed: the gradient has W1's shape (3, 2).",
        "q5.prompt": "Multiple choice (the exercise is a comparison to run; this captures its point). Over 100 "
                     "steps, L2 in the loss with Adam against AdamW's decoupled decay: (a) every weight shrinks "
                     "the same under both; (b) with L2 inside Adam, W1's second column (no gradient from the "
                     "data) is driven to about 0, while AdamW shrinks it only by (1 − ηλ) per step; (c) AdamW "
                     "shrinks weights with large gradients less than those with small gradients. Answer 'a', 'b' "
                     "or 'c'.",
        "q5.hint1": "Adam divides the gradient by its running RMS. With L2 the decay λw is part of the gradient.",
        "q5.hint2": "Where the data gradient is 0, the whole gradient is λw, and Adam turns it into a step of about η.",
        "q5.solution": "b. With L2 the decay is rescaled with the gradient: where the data gradient is small, Adam "
                       "steps by about η toward 0 every step. AdamW applies w ← w(1 − ηλ) to every weight alike.",
        "q5.correct": "Right: Adam rescales the L2 term too, so weights without data gradient shrink fastest; "
                      "AdamW decays all weights by the same factor.",
        "q5.why_a": "The two differ exactly in how the decay is scaled: Adam rescales an L2 term, AdamW does not.",
        "q5.why_c": "AdamW's decay is w ← w(1 − ηλ), the same factor for every weight, whatever its gradient.",
        "q6.prompt": "torch.manual_seed(0); nn.Linear(2, 3) then nn.Linear(3, 1) (float64 as in the chapter) as "
                     "W1, b1, W2, b2; x = [1, 0], y = 1, MSE: pass the autograd gradients {'W1', 'b1', 'W2', 'b2'}.",
        "q6.hint1": "Create both layers right after torch.manual_seed(0), in that order: the seed fixes both.",
        "q6.hint2": "Use layer.weight and layer.bias in place of W1/b1 and W2/b2; the loss is "
                    "0.5 * ((y_hat - y) ** 2).sum().",
        "q6.solution": "torch.manual_seed(0)\n"
                       "layer1, layer2 = torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)\n"
                       "y_hat = torch.sigmoid(layer2(torch.sigmoid(layer1(xt))))\n"
                       "(0.5 * ((y_hat - yt) ** 2).sum()).backward()\n"
                       "grads = {'W1': layer1.weight.grad, 'b1': layer1.bias.grad,\n"
                       "         'W2': layer2.weight.grad, 'b2': layer2.bias.grad}",
        "q6.correct": "Right: the hand-written backward pass and autograd agree for any weights.",
        "q7.prompt": "Cross-entropy with the label y = 0 (x = [1, 0], the chapter's weights): pass the hidden-layer "
                     "error δ₁ = ∂CE/∂z₁, shape (3,), computed with the corrected formula.",
        "q7.hint1": "Start from the output error: with cross-entropy δ₂ = ∂CE/∂z₂ = ŷ − y, and ŷ is the chapter's "
                    "0.6386 (the label does not change the forward pass).",
        "q7.hint2": "Pass δ₂ back through the output weights, then through the hidden sigmoid: "
                    "δ₁ = (W2ᵀ δ₂) ⊙ σ'(z₁), with σ'(z₁) = a₁(1 − a₁) taken at the hidden units.",
        "q7.solution": "delta2 = y_hat - 0.0                       # ∂CE/∂z2, shape (1,)\n"
                       "delta1 = (W2.T @ delta2) * a1 * (1 - a1)   # (3, 1) @ (1,) -> (3,), then ⊙ σ'(z1)\n"
                       "# with autograd: z1 = p['W1'] @ xt + p['b1']; z1.retain_grad(); build the CE loss from z1\n"
                       "# with target torch.tensor([0.0]); loss.backward(); z1.grad",
        "q7.correct": "Right: the output error reaches each hidden unit through that unit's own output weight, then "
                      "through its own σ'(z₁).",
        "q7.no_weights": "That is the source's formula ∂CE/∂z′ ⊙ σ′(z): it leaves out W2, so every hidden unit gets "
                         "the output error whatever its weight to the output (even the sign is wrong for one unit).",
        "q7.output_sigma": "That takes σ' at the output, σ'(z₂); the hidden term needs the hidden activation's "
                           "derivative, at the hidden pre-activations z₁.",
        "q7.no_sigma": "That is W2ᵀδ₂, the error at the hidden activations a₁; one more factor takes it to z₁.",
        "q7.mse": "That is the hidden error for the squared error, whose δ₂ is (ŷ − y)σ'(z₂); this exercise uses "
                  "cross-entropy.",
        "q7.label_one": "That is the hidden error for the label y = 1 (the chapter's example); this exercise uses "
                        "y = 0.",
    },
}


def gradients(x: list[list[float]], y: list[float], *, hidden: str = "sigmoid",
              weights: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Autograd gradients of L = Σ ½(ŷ − y)² for the 2-3-1 network (rows of x are examples)."""
    import torch

    start = weights or {"W1": W1, "b1": B1, "W2": W2, "b2": B2}
    p = {name: torch.as_tensor(value, dtype=torch.float64).clone().requires_grad_(True) for name, value in start.items()}
    activation = torch.sigmoid if hidden == "sigmoid" else torch.relu
    a1 = activation(torch.tensor(x, dtype=torch.float64) @ p["W1"].T + p["b1"])
    y_hat = torch.sigmoid(a1 @ p["W2"].T + p["b2"])[:, 0]
    (0.5 * ((y_hat - torch.tensor(y, dtype=torch.float64)) ** 2).sum()).backward()
    return {name: t.grad.numpy() for name, t in p.items()}


def _check_label_zero(answer: Any) -> Problem | None:
    return compare_gradients(answer, gradients([X], [0.0]))


def _check_relu(answer: Any) -> Problem | None:
    return compare_gradients(answer, gradients([X], [1.0], hidden="relu"))


def _cross_entropy_delta(z2: float, y: float) -> float:
    import torch

    z = torch.tensor(z2, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(torch.sigmoid(z), torch.tensor(y, dtype=torch.float64)).backward()
    return float(z.grad)


def _chapter_z2() -> float:
    a1 = 1 / (1 + np.exp(-(np.array(W1) @ np.array(X) + np.array(B1))))
    return float((np.array(W2) @ a1 + np.array(B2))[0])


def _check_delta2(answer: Any) -> Problem | None:
    if callable(answer):
        for z2, y in ((_chapter_z2(), 1.0), (-1.2, 0.0), (2.0, 1.0), (0.3, 0.0)):
            y_hat = 1 / (1 + np.exp(-z2))
            got = as_number(answer(y_hat, y))
            if isinstance(got, Problem):
                return got
            want = _cross_entropy_delta(z2, y)
            if not np.isclose(got, want, atol=1e-8):
                return problem("q3.delta_at", y_hat=y_hat, y=y, got=got, want=want)
        return None
    got = as_number(answer)
    if isinstance(got, Problem):
        return problem("q3.not_number_or_function")
    z2 = _chapter_z2()
    y_hat = 1 / (1 + np.exp(-z2))
    want = _cross_entropy_delta(z2, 1.0)
    if np.isclose(got, want, atol=1e-4):
        return None
    key = ("q3.delta_mse" if np.isclose(got, want * y_hat * (1 - y_hat), atol=1e-4)
           else "q3.delta_sign" if np.isclose(got, -want, atol=1e-4) else "q3.delta_value")
    return problem(key, got=got, want=want, y_hat=y_hat)


BATCH_X = [[1.0, 0.0], [0.0, 1.0]]
BATCH_Y = [1.0, 0.0]


def _check_batch(answer: Any) -> Problem | None:
    want = gradients(BATCH_X, BATCH_Y)["W1"]
    got = as_array(answer, "dL/dW1")
    if isinstance(got, Problem):
        return got
    if got.shape == want.shape:
        if np.allclose(got, want / 2, atol=1e-4):
            return problem("q4.mean")
        for i, (row, label) in enumerate(zip(BATCH_X, BATCH_Y)):
            if np.allclose(got, gradients([row], [label])["W1"], atol=1e-4):
                return problem("q4.one_example", index=i)
    elif got.shape == want.T.shape and np.allclose(got, want.T, atol=1e-4):
        return problem("q4.transposed")
    return compare_arrays(got, want, "dL/dW1")


def seeded_linear_weights(dtype_name: str = "float64") -> dict[str, np.ndarray]:
    """W1, b1, W2, b2 of nn.Linear(2, 3) and nn.Linear(3, 1) created after torch.manual_seed(0)."""
    import torch

    dtype = getattr(torch, dtype_name)
    with torch.random.fork_rng(devices=[]):  # the student's random state is left as it was
        torch.manual_seed(0)
        first, second = torch.nn.Linear(2, 3, dtype=dtype), torch.nn.Linear(3, 1, dtype=dtype)
    return {"W1": first.weight.detach().double().numpy(), "b1": first.bias.detach().double().numpy(),
            "W2": second.weight.detach().double().numpy(), "b2": second.bias.detach().double().numpy()}


def _check_seeded(answer: Any) -> Problem | None:
    found = compare_gradients(answer, gradients([X], [1.0], weights=seeded_linear_weights("float64")))
    if found is None:
        return None
    # Layers created in float32 (the default dtype) draw other numbers; they are as right, to float32 precision.
    float32 = compare_gradients(answer, gradients([X], [1.0], weights=seeded_linear_weights("float32")))
    return None if float32 is None else found


def hidden_error(y: float, *, loss: str = "ce") -> np.ndarray:
    """Autograd's hidden-layer error δ₁ = ∂L/∂z₁, shape (3,), for the chapter's example with the label y."""
    import torch

    def tensor(value: Any) -> torch.Tensor:
        return torch.tensor(value, dtype=torch.float64)

    z1 = (tensor(W1) @ tensor(X) + tensor(B1)).requires_grad_(True)  # a leaf, so that backward fills z1.grad
    y_hat = torch.sigmoid(tensor(W2) @ torch.sigmoid(z1) + tensor(B2))
    target = tensor([y])
    if loss == "ce":
        torch.nn.functional.binary_cross_entropy(y_hat, target).backward()
    else:
        (0.5 * ((y_hat - target) ** 2).sum()).backward()
    return z1.grad.numpy()


def hidden_error_variants() -> dict[str, np.ndarray]:
    """Plausible wrong answers to q7 (cross-entropy, y = 0), keyed by the message that names each."""
    y = 0.0
    w1, b1, w2, b2 = (np.array(v) for v in (W1, B1, W2, B2))
    a1 = 1 / (1 + np.exp(-(w1 @ np.array(X) + b1)))
    y_hat = 1 / (1 + np.exp(-(w2 @ a1 + b2)))
    delta2 = y_hat - y
    return {"no_weights": delta2 * a1 * (1 - a1),  # the source's ∂CE/∂z′ ⊙ σ′(z): W′ dropped
            "output_sigma": (w2.T @ delta2) * y_hat * (1 - y_hat),
            "no_sigma": w2.T @ delta2,
            "mse": hidden_error(y, loss="mse"),
            "label_one": hidden_error(1.0)}


def _check_hidden_error(answer: Any) -> Problem | None:
    want = hidden_error(0.0)
    got = as_array(answer, "δ₁")
    if isinstance(got, Problem):
        return got
    if got.size == want.size:
        for key, wrong in hidden_error_variants().items():
            if np.allclose(got.reshape(want.shape), wrong, atol=1e-4, rtol=1e-3):
                return problem(key)
    return compare_arrays(got, want, "δ₁")


MESSAGES["zh"] = translations("ch04")
q1, q2, q3, q4, q5, q6, q7 = questions(MESSAGES, _check_label_zero, _check_relu, _check_delta2, _check_batch,
                                       choice("b", "abc"), _check_seeded, _check_hidden_error)
