"""Checks of lesson 09, the loss-curve clinic: name the cause of each broken run; its exercises.

Each case of ``gdlessons.clinic`` is a prediction checkpoint with ``choices``: the learner writes one
word of ``clinic.CAUSES``; the answer is the case's declared cause (``clinic.cause``), the
explanation says how the curve and the printout show it, and each cause a learner is likely to
confuse it with earns a hint on how to tell the two apart.

>>> predict09_a("lr_high")
✓ Prediction 9a: right, lr_high. ...
>>> predict09_g("lr_high")
✗ Prediction 9g: you said lr_high; the answer is sum_gradient. At lr · L = 0.15, ...
"""

from __future__ import annotations

from functools import partial

import numpy as np

from gdlessons.check.cases import small_lr_floor
from gdlessons.check.core import read_number
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, Gives, exercise, hidden_case
from gdlessons.clinic import CAUSES, cause, lr_above_2_over_L, lr_far_too_small
from gdlessons.numpy_gd import lipschitz_constant

__all__ = ["ex09_1", "ex09_2", "ex09_3"]
__all__ += ["predict09_a", "predict09_b", "predict09_c", "predict09_d", "predict09_e"]
__all__ += ["predict09_f", "predict09_g", "predict09_h", "predict09_i"]


def _said(word: str, hint: str) -> Said:
    """A wrong diagnosis: one of the causes, and how to tell it from the right one."""
    assert word in CAUSES, word  # a typo here would be a hint no learner can earn
    return Said(lambda: word, hint)


def _case(letter: str, why: str, *mistakes: Said):
    return prediction(
        f"9{letter}",
        f"the cause of clinic case {letter}, one of {', '.join(CAUSES)}",
        partial(cause, letter),
        why,
        mistakes=list(mistakes),
        choices=CAUSES,
    )


predict09_a = _case(
    "a",
    "lr · L = 1.45 · 1.5 ≈ 2.2 is above 2: every step multiplies w's distance to the minimum by "
    "1 - lr · L ≈ -1.2, so w jumps across the minimum, further each time (0, 4.4, -0.86, 5.4, …), "
    "and the loss grows by the same factor every epoch: a straight rising line on the log scale "
    "(lessons 01 and 06). Lower the lr below 2/L.",
    _said(
        "sum_gradient",
        "a summed gradient diverges at an lr that looks safe, lr · L far below 2, and fast. Here "
        "lr · L ≈ 2.2 is above 2 with the mean gradient: the lr itself is too large.",
    ),
    _said(
        "unscaled",
        "unscaled inputs make L large, so an ordinary lr ends up above 2/L. Here x is ordinary "
        "(L = 1.5) and the lr, 1.45, is what is too large.",
    ),
    _said(
        "sum_reduction",
        "with reduction='sum' the loss at epoch 0 would be n = 20 times mean(y²); here it is "
        "mean(y²) = 3.1 itself.",
    ),
)

predict09_b = _case(
    "b",
    "lr · L = 0.0001 · 1.5 is thousands of times below 2: each step removes only 0.015 % of the "
    "distance to the minimum, so after 100 epochs w has moved from 0 to 0.03, on its way to 2. The "
    "curve is almost flat from the very first epoch. Raise the lr towards 1/L.",
    _said(
        "broadcasting",
        "a broadcast loss flattens because the model cannot fit (w stays at 0 however long it "
        "trains); here w is still moving towards 2, only very slowly, and lr · L is tiny.",
    ),
    _said(
        "unscaled",
        "unscaled inputs drop the loss fast at first and then crawl; this curve never dropped, "
        "and its inputs are ordinary (L = 1.5).",
    ),
    _said(
        "noise_floor",
        "a noise floor comes after a fast fall and sits just above the best loss, jittering; this "
        "loss never fell, and it is far above the best.",
    ),
)

predict09_c = _case(
    "c",
    "Without optimizer.zero_grad() every backward() adds its gradient to all the earlier ones, so "
    "each step uses the sum of every gradient so far: a velocity with no friction. w rolls past "
    "the minimum and back, and the loss rises and falls in slow, regular waves (3.1, 0.59, 2.2, "
    "0.24, …) instead of settling (lessons 03 and 04). Zero the gradients every step.",
    _said(
        "lr_high",
        "too large an lr makes the loss grow every epoch, w flipping sides at each step; here the "
        "loss falls and rises again in smooth waves, a few epochs each, and lr · L = 0.11 is small.",
    ),
    _said(
        "noise_floor",
        "noise is jitter from one step to the next, at random; these waves are smooth and regular, "
        "and the run is full batch: there is no sampling noise.",
    ),
)

predict09_d = _case(
    "d",
    "The loss at epoch 0 is 61 = 20 · 3.1: n times mean(y²), so the loss is a sum over the 20 "
    "samples, not a mean, and so is its gradient. The step is 20 times what lr = 0.05 suggests, "
    "20 · 0.05 · 2.2 > 2, and the run diverges: nn.MSELoss(reduction='sum'). Use the default "
    "'mean' (or divide the lr by n).",
    _said(
        "sum_gradient",
        "a summed gradient in a hand-written loop also diverges at a safe-looking lr, but its loss "
        "is still a mean: epoch 0 would print mean(y²) = 3.1. Here epoch 0 prints 20 times that.",
    ),
    _said(
        "lr_high",
        "for the mean loss lr · L = 0.05 · 2.2 = 0.11 is far below 2; the step is 20 times larger "
        "because the loss is a sum (its epoch-0 value is 20 times mean(y²)).",
    ),
)

predict09_e = _case(
    "e",
    "One sample per step at a constant lr: the loss falls fast, then jitters above the best "
    "possible (least squares) and stops improving, because each step's noisy gradient undoes as "
    "much as the step gains. That level is proportional to lr/B (lesson 05); a smaller lr, a "
    "larger batch or a schedule gets below it.",
    _said(
        "overfitting",
        "overfitting shows against a validation loss: the training loss far below the noise, the "
        "validation loss above it. Here the training loss itself jitters above the best possible "
        "(least squares), one sample per step.",
    ),
    _said(
        "broadcasting",
        "a broadcasting bug flattens smoothly and high, with w stuck far from the rule; here the "
        "loss jitters just above the least-squares loss.",
    ),
    _said(
        "lr_low",
        "a small lr falls slowly from the start; this one fell from 33 to 0.15 in 100 steps, then stopped.",
    ),
)

predict09_f = _case(
    "f",
    "y_hat has shape (20, 1) and y (20,), so y_hat - y broadcasts to (20, 20): the loss compares "
    "every prediction with every target. Its best is one constant prediction, the mean of y: "
    "w = 0.00 and the loss flat at the variance of y from epoch 10 on (lesson 04's (4, 1) against "
    "(4,)). torch warns about it once; reshape y to (n, 1) or y_hat to (n,).",
    _said(
        "lr_low",
        "a small lr still improves every epoch; this loss stopped at epoch 10 with w = 0.00: the "
        "model predicts the same number for every x, as if x did not matter.",
    ),
    _said(
        "noise_floor",
        "a noise floor sits just above the least-squares loss and jitters; this loss sits smoothly "
        "at the variance of y, what predicting one constant gets, with w = 0.00.",
    ),
    _said(
        "overfitting",
        "overfitting fits the training data too well; this run cannot fit it at all (w = 0.00).",
    ),
)

predict09_g = _case(
    "g",
    "lr · L = 0.1 · 1.5 = 0.15 is far below 2, yet the loss grows about 4 times per epoch while "
    "it starts at mean(y²) = 3.1, a mean. So the loss is right and the step is n = 20 times too "
    "large: the gradient is summed over the samples, 2 · sum(x (y_hat - y)) without the 1/n "
    "(lesson 01's classic slip). Divide by n.",
    _said(
        "lr_high",
        "at lr · L = 0.15, far below 2, the mean's gradient converges. The step is "
        "n = 20 times too large, from a gradient summed instead of averaged.",
    ),
    _said(
        "sum_reduction",
        "the loss at epoch 0 is mean(y²) = 3.1, a mean: with reduction='sum' it would be 20 times "
        "that. Only the hand-written gradient is summed.",
    ),
    _said(
        "unscaled",
        "the inputs are ordinary, L = 1.5: what is 20 times too large is the gradient, not L.",
    ),
)

predict09_h = _case(
    "h",
    "x runs from 3 to 16, far from 0: the valley of (w, b) is long and narrow (lesson 06's large "
    "κ). The largest safe lr, 0.95 · 2/L, removes the steep direction in a few epochs (the fast "
    "drop), then the flat one crawls: b is 0.41 after 300 epochs where the rule says 1, with no "
    "noise to stop it. Standardize x.",
    _said(
        "lr_low",
        "a small lr is slow from the first step; this run dropped from 5e+02 to 0.035 in 100 epochs, then "
        "crawled: two speeds, two curvatures. Its lr is already 0.95 · 2/L, the most it can be.",
    ),
    _said(
        "noise_floor",
        "there is no noise in these y (the best loss is 0) and the loss still falls, slowly and "
        "steadily: a crawl, not a floor.",
    ),
    _said(
        "lr_high",
        "its lr, 0.95 · 2/L, is just below the limit, and the loss never grows; a larger lr would "
        "diverge. The slowness comes from the inputs, not the lr.",
    ),
)

predict09_i = _case(
    "i",
    "The training loss falls to 0.0051, far below the noise variance 0.09 that no model can "
    "predict, while the validation loss stays above it, 0.4: 23 parameters fit the noise of 30 "
    "samples (lesson 05). More data, fewer features, or stop at the best validation loss.",
    _said(
        "noise_floor",
        "a noise floor keeps the training loss above the best possible; here the training loss "
        "falls far below the noise variance, which no model can do on new data.",
    ),
    _said(
        "lr_low",
        "both losses fell fast; what is wrong is the gap: training 0.0051, validation 0.4.",
    ),
)


# ---- Exercises: the three numbers that tell most broken runs apart


ex09_1 = exercise(
    "9.1",
    1,
    "my_lr_times_L(lr, X) -> lr · L: the first check of any run, for y_hat = w x (1-D X, no bias)",
    cases=[
        hidden_case(12, 1.5, 0.0, 911, lr=0.3),
        hidden_case(40, -2.0, 0.0, 912, lr=0.01),
    ],
    read=read_number("Your lr · L"),
    reference=lambda c: c.lr * lipschitz_constant(c.X),
    setting="For lr = {lr} on {n} samples your lr · L is {got}; the right one is {want}.",
    mistakes=[
        Gives(
            lambda c: c.lr * float(np.mean(np.asarray(c.X, dtype=np.float64) ** 2)),
            "L = 2 · mean(x²): the loss (w x - y)² has the curvature 2 x², so mind the 2.",
        ),
        Gives(
            lambda c: c.want * c.n,
            "that uses the sum of x² over the {n} samples; L comes from the mean loss: 2 · mean(x²).",
        ),
        Gives(
            lambda c: 2 / (c.want / c.lr),
            "that is the bound 2/L; return lr · L, the number to compare with 2.",
        ),
    ],
    rtol=1e-4,
    passed="lr · L is the run's first check: above 2 it diverges, far below 1 it crawls.",
)


def _losses(run, epochs: int, seed: int) -> Case:
    return Case(losses=run(seed).curves["training loss"][: epochs + 1], epochs=epochs)


def _factor(losses: np.ndarray, steps: int) -> float:
    losses = np.asarray(losses, dtype=np.float64)
    return float((losses[-1] / losses[0]) ** (1 / steps))


ex09_2 = exercise(
    "9.2",
    2,
    "my_factor_per_epoch(losses) -> the mean factor by which the loss changes per epoch",
    cases=[_losses(lr_above_2_over_L, 10, 921), _losses(lr_far_too_small, 40, 922)],
    read=read_number("Your factor per epoch"),
    reference=lambda c: _factor(c.losses, c.epochs),
    setting="For {epochs} epochs of losses your factor per epoch is {got}; the right one is {want}.",
    mistakes=[
        Gives(
            lambda c: _factor(c.losses, 1),
            "that is the factor over the whole run, last / first; per epoch, take its k-th root, "
            "with k = len(losses) - 1 epochs between the first value and the last.",
        ),
        Gives(
            lambda c: _factor(c.losses, c.epochs + 1),
            "{epochs} epochs lie between the first and the last of {epochs} + 1 losses: the root "
            "is len(losses) - 1, not len(losses).",
        ),
        Gives(
            lambda c: 1 / c.want,
            "that is first / last: the factor is last / first, above 1 when the loss grows.",
        ),
    ],
    rtol=1e-4,
    passed="on a log scale that factor is the slope: above 1 the run diverges, just below 1 it "
    "crawls.",
)


ex09_3 = exercise(
    "9.3",
    3,
    "my_noise_floor(X, lr, sigma, batch_size) -> the predicted J - J_min of constant-lr SGD",
    cases=[
        hidden_case(200, [1.0, -2.0], 0.5, 931, lr=0.05, sigma=0.3, batch_size=4),
        hidden_case(80, [3.0, 0.5, 1.0], 0.0, 932, lr=0.02, sigma=0.1, batch_size=1),
    ],
    read=read_number("Your floor"),
    reference=small_lr_floor,
    setting="For lr = {lr}, sigma = {sigma} and batches of {batch_size} your floor is {got}; the "
    "right one is {want}.",
    mistakes=[
        Gives(
            lambda c: small_lr_floor(c, batch_power=0.0),
            "divide by the batch size too: a mean of B sample gradients has 1/B of the variance.",
        ),
        Gives(
            lambda c: small_lr_floor(c, batch_power=0.5),
            "the floor is a loss, it goes with the variance of the mean gradient, 1/B, not with "
            "its standard deviation, 1/√B.",
        ),
        Gives(
            lambda c: small_lr_floor(c, scale=1.0),
            "the Hessian of the mean squared error is 2/n · AᵀA, with A the inputs and a column "
            "of ones (for the bias): mind the 2.",
        ),
    ],
    otherwise="lesson 05: J - J_min ≈ lr · sigma² · trace(H) / (2 B), with H = 2/n · AᵀA and A "
    "the columns of X and a column of ones.",
    rtol=1e-4,
    passed="the floor grows with lr and shrinks with the batch: when a run jitters there, lower the "
    "lr, grow the batch, or use a schedule.",
)
