"""Lesson 07's exercises: read symptoms, predict what clipping does, and add a combination to the sweep.

>>> q2.check("c")
Correct: the log records the raw gradient, before `optimizer.apply` clips it: clipping changes the update, not the gradient.
"""

import math

import keras
import numpy as np

from course_utils import baselines, compare
from course_utils.approx import approx
from course_utils.checks import Incorrect, MultipleChoice, Question, expect_choice, expect_number, normalize_choice

# q1: symptoms (what a gradient log shows) and the fixes to choose from
SYMPTOMS = {
    "A": "RNN: the loss looks fine for 20 steps, then NaN; on the way the raw gradient norm grew from about 20 past 1e10.",
    "B": "deep tanh MLP: never NaN, accuracy stuck at chance; its raw gradient norm started at about 100, "
    "then collapsed to about 1.",
    "C": "the RNN of symptom A with an L2 penalty on its weights: it still reaches NaN.",
}
FIXES = {
    "a": "gradient clipping (clipnorm or global_clipnorm)",
    "b": "an L2 weight penalty",
    "c": "change the network: ReLU with He initialisation, or BatchNorm",
    "d": "a larger batch size",
}
_FIX_FOR = {"A": "a", "B": "c", "C": "a"}
_NOT_MEASURED = "the sweep never changed the batch size: pick a fix the table measured"
_WHY_NOT = {
    ("A", "b"): "in the sweep, the gradient of the RNN with L2 alone still exploded in every seed",
    (
        "A",
        "c",
    ): "the RNN has no hidden Dense layers for He-ReLU or BatchNorm to change; which RNN rows have no NaN runs?",
    ("A", "d"): _NOT_MEASURED,
    ("B", "a"): "clipnorm kept the MLP's raw gradient as large as the baseline's and its accuracy below 0.3: it caps "
    "the update, the network stays badly scaled",
    ("B", "b"): "L2 left the MLP at chance",
    ("B", "d"): _NOT_MEASURED,
    ("C", "b"): "the L2 penalty is already there, and on its own it did not stop the explosion",
    ("C", "c"): "the RNN has no hidden Dense layers for He-ReLU or BatchNorm to change; what made 'L2 + ...' finite?",
    ("C", "d"): _NOT_MEASURED,
}

# q2: what the log shows with clipping
RAW_NORM_CHOICES = {
    "a": "at most 1.0: clipping caps it",
    "b": "far below the baseline's, because the weights stay smaller",
    "c": "about the same as the baseline's",
    "d": "NaN: clipping only delays the explosion",
}

CLIPPING_CHOICES = ("clipnorm", "global_clipnorm", "neither")  # q3: which clipping helps the deep MLP more
RATIO_RANGE = (0.5, 3.0)  # q4: clipnorm's largest raw norm over the baseline's: "the same order of magnitude"
MAX_HE_NORM = 30.0  # q5: a He-ReLU network's largest raw gradient norm stays well below the baseline's (about 100)
MIN_ACCURACY = 0.3  # q5: ... and it learns within the lesson's budget


class SymptomToFix(Question):
    """Not a plain multiple choice: a fix for each of three symptoms. Here case matters, unlike in MultipleChoice:
    capitals name the symptoms and lower case the fixes, so an answer 'C' for a symptom is sent back as malformed."""

    hints = (
        "Each symptom matches a row of lesson 07's decision guide. Which technique rows of the tables have no NaN "
        "runs for the RNN, and which learn for the MLP?",
        "NaN after a growing gradient is a feedback loop between updates and gradients; a stuck network with no NaN "
        "is a network whose forward pass is badly scaled.",
    )
    solution_text = 'answers = {"A": "a", "B": "c", "C": "a"}'

    def grade(self, answers):
        if not isinstance(answers, dict):
            raise Incorrect(f"answers should be a dict like {{'A': 'a', ...}}, got {type(answers).__name__}.")
        missing = sorted(set(SYMPTOMS) - set(answers))
        extra = sorted(set(answers) - set(SYMPTOMS), key=str)
        if missing or extra:
            raise Incorrect(
                f"answers should have exactly the keys 'A', 'B' and 'C' (missing {missing}, unexpected {extra})."
            )
        for symptom in SYMPTOMS:
            expect_choice(answers[symptom], f"the answer for symptom {symptom}", tuple(FIXES))
        wrong = [f"symptom {s}: {_WHY_NOT[(s, answers[s])]}" for s in SYMPTOMS if answers[s] != _FIX_FOR[s]]
        if wrong:
            raise Incorrect("; ".join(wrong) + ".")
        return "NaN after a growing gradient calls for clipping (with or without L2); a stuck, badly scaled network for a change of the network itself."


def _scores(results, name):
    result = results.get(name)
    if not isinstance(result, compare.Result):
        raise Incorrect(
            f"results has no {name!r} entry: run compare.sweep(mlp, SEEDS, ['clipnorm', 'global_clipnorm', ...])."
        )
    if not result.scores.size:
        raise Incorrect(f"every {name!r} run diverged, so there is nothing to compare: did you change the problem?")
    return result.scores


def measured_winner(results):
    """Which clipping gave the higher test accuracy in *every* seed: 'clipnorm', 'global_clipnorm' or 'neither'."""
    per_variable, global_ = _scores(results, "clipnorm"), _scores(results, "global_clipnorm")
    if per_variable.min() > global_.max():
        return "clipnorm"
    if global_.min() > per_variable.max():
        return "global_clipnorm"
    return "neither"


class ClipnormOrGlobal(Question):
    hints = (
        "The deep MLP's raw gradient starts at about 100 and, in lesson 01, is far larger in the input-side layers than in the "
        "output layer. `global_clipnorm` divides *every* variable's gradient by the same factor; `clipnorm` only "
        "shrinks the variables whose own norm is above 1.",
        "After global clipping to norm 1, how large is the output layer's share of the update?",
    )
    solution_text = '# then run the sweep and q3.check(clipping_prediction, clipping)\nclipping_prediction = "clipnorm"'

    def grade(self, prediction, results):
        prediction = expect_choice(normalize_choice(prediction), "clipping_prediction", CLIPPING_CHOICES)
        if not isinstance(results, dict):
            raise Incorrect(f"results should be the dict that compare.sweep returns, got {type(results).__name__}.")
        measured = measured_winner(results)
        if prediction != measured:
            raise Incorrect(
                "the sweep does not agree with your prediction: compare the two rows' scores, seed by seed."
            )
        if measured == "clipnorm":
            return (
                "global clipping divides every gradient by the global norm, which the input-side layers dominate, so "
                "the output layer barely moves; clipnorm caps each variable on its own and lets the small ones through."
            )
        return "that is what this machine measured."


class RawNormRatio(Question):
    hints = (
        "`Result.max_grad_norm` is the largest raw gradient norm of any seed's run.",
        "Divide clipping['clipnorm'].max_grad_norm by clipping['baseline'].max_grad_norm.",
    )
    solution_text = 'ratio = clipping["clipnorm"].max_grad_norm / clipping["baseline"].max_grad_norm'

    def grade(self, ratio):
        value = expect_number(ratio, "ratio")
        low, high = RATIO_RANGE
        if value <= 0:
            raise Incorrect("a ratio of two norms is positive.")
        if value < low:
            raise Incorrect(
                f"{approx(value)} says clipping lowered the logged norm. The log holds raw gradients: check that "
                "you divided the clipnorm row's max_grad_norm by the baseline's."
            )
        if value > high:
            raise Incorrect(
                f"{approx(value)} is far from 1. Did you compare the *largest* norms (max_grad_norm)? Typical "
                "norms differ a lot, because the baseline's gradient collapses after its first step."
            )
        return (
            f"{approx(value)}, the same order of magnitude: clipping bounded the updates, while the raw gradient stayed as "
            "large as the baseline's."
        )


def _activations(model):
    return [layer.activation.__name__ for layer in model.layers if isinstance(layer, keras.layers.Activation)]


class HeReluClipnorm(Question):
    hints = (
        "Start from `compare.he_relu` and `compare.clipnorm`: the model comes from "
        "`problem.model(seed, activation=..., weight_scale=...)`, the optimizer from `problem.sgd(clipnorm=...)`.",
        "Use activation='relu', weight_scale=compare.HE_SCALE and clipnorm=compare.CLIP_NORM.",
    )
    solution_text = (
        "# inside he_relu_clipnorm(problem, seed), before `return model, optimizer`:\n"
        'model = problem.model(seed, activation="relu", weight_scale=compare.HE_SCALE)\n'
        "optimizer = problem.sgd(clipnorm=compare.CLIP_NORM)"
    )

    def grade(self, he_relu_clipnorm, model, optimizer):
        if not callable(he_relu_clipnorm):
            raise Incorrect(
                f"he_relu_clipnorm should be a function (problem, seed) -> (model, optimizer), got "
                f"{type(he_relu_clipnorm).__name__}."
            )
        if not isinstance(model, keras.Model):
            raise Incorrect(f"model should be the keras.Model your function returns, got {type(model).__name__}.")
        if not model.built:
            raise Incorrect("model is not built: build it with problem.model(...), which gives it an Input layer.")
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise Incorrect(f"optimizer should be a keras optimizer, got {type(optimizer).__name__}.")
        activations = _activations(model)
        if not activations or any(name != "relu" for name in activations):
            raise Incorrect(f"the hidden activations should all be ReLU, got {sorted(set(activations)) or 'none'}.")
        if any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers):
            raise Incorrect("this combination has no BatchNormalization: it is He-ReLU + clipping only.")
        first = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
        fan_in = first.kernel.shape[0]
        scale = float(np.std(first.kernel.numpy())) * math.sqrt(fan_in)
        if abs(scale / compare.HE_SCALE - 1.0) > 0.2:
            raise Incorrect(
                f"the first kernel is drawn at sigma_w {approx(scale)}; He initialisation for ReLU is "
                "sigma_w = sqrt(2) (weight_scale=compare.HE_SCALE)."
            )
        if optimizer.global_clipnorm is not None:
            raise Incorrect(
                "that is global_clipnorm: this exercise asks for clipnorm, each variable clipped on its own."
            )
        if optimizer.clipnorm != compare.CLIP_NORM:
            raise Incorrect(
                f"the optimizer should clip each variable's gradient to norm {compare.CLIP_NORM:g} (clipnorm), "
                f"got clipnorm={optimizer.clipnorm}."
            )
        if not math.isclose(float(optimizer.learning_rate), baselines.MLP_TRAINING["learning_rate"], rel_tol=1e-6):
            raise Incorrect("keep the baseline's SGD learning rate (use problem.sgd) so the comparison stays fair.")
        result = compare.run_technique(compare.mlp_problem(**compare.LESSON_MLP), he_relu_clipnorm, compare.SEEDS)
        if result.n_diverged:
            raise Incorrect(f"{result.n_diverged} of {len(result.runs)} runs reached NaN.")
        if result.max_grad_norm > MAX_HE_NORM:
            raise Incorrect(
                f"a raw gradient norm reached {approx(result.max_grad_norm)}: is the function's network really "
                "the He-ReLU one?"
            )
        if result.score_median < MIN_ACCURACY:
            raise Incorrect(f"the median test accuracy is {approx(result.score_median)}: the network did not learn.")
        return (
            f"no NaN in {len(result.runs)}/{len(result.runs)} seeds, the largest raw gradient norm is "
            f"{approx(result.max_grad_norm)} and the median test accuracy {approx(result.score_median)}: with the cause "
            "fixed, clipping is a cheap safety net."
        )


q1 = SymptomToFix()
q2 = MultipleChoice(  # what the log shows with clipping (the options: RAW_NORM_CHOICES)
    "c",
    name="prediction",
    correct="the log records the raw gradient, before `optimizer.apply` clips it: clipping changes the update, not the gradient.",
    wrong={
        "a": "the logged norm is computed right after `tape.gradient`; where does Keras clip?",
        "b": "the very first gradient is computed before any update: with the same seed it is the same with and without "
        "clipping. What could make later ones far smaller?",
        "d": "the deep MLP baseline never reaches NaN, even without clipping.",
    },
    hints=(
        "`train_with_gradient_log` computes the gradient with `tape.gradient`, logs its norm, then calls "
        "`optimizer.apply`. Where does Keras apply `clipnorm`?",
    ),
    solution_text='# the log records the gradient before the optimizer clips it\nprediction = "c"',
)
q3 = ClipnormOrGlobal()
q4 = RawNormRatio()
q5 = HeReluClipnorm()
