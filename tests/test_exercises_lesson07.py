import math

import keras
import pytest

from course_utils import compare
from course_utils.checks import ____
from course_utils.exercises.lesson07 import measured_winner, q1, q2, q3, q4, q5
from course_utils.gradients import GradientLog


def status(feedback):
    return feedback.status


def fake_result(name, scores):
    runs = [
        compare.Run(seed, GradientLog(losses=[1.0], grad_norms=[1.0]), score, 0.1) for seed, score in enumerate(scores)
    ]
    return compare.Result(name, None, runs, trace_seconds=0.1, step_ops=1)


def clipping_results(per_variable, global_):
    return {
        "clipnorm": fake_result("clipnorm", per_variable),
        "global_clipnorm": fake_result("global_clipnorm", global_),
    }


# q1: symptoms -> fixes

SOLUTION_Q1 = {"A": "a", "B": "c", "C": "a"}


def test_q1_accepts_the_solution_and_blanks():
    assert status(q1.feedback(SOLUTION_Q1)) == "correct"
    assert status(q1.feedback({"A": ____, "B": ____, "C": ____})) == "blank"


def test_q1_says_which_symptom_is_wrong_and_why_without_the_answer():
    feedback = q1.feedback({"A": "b", "B": "c", "C": "a"})
    assert feedback.status == "incorrect"
    assert (
        feedback.message
        == "symptom A: in the sweep, the gradient of the RNN with L2 alone still exploded in every seed."
    )
    feedback = q1.feedback({"A": "a", "B": "a", "C": "d"})
    assert feedback.message.startswith("symptom B: clipnorm kept the MLP's raw gradient as large as the baseline's")
    assert "symptom C: the sweep never changed the batch size" in feedback.message


def test_q1_rejects_malformed_answers():
    assert q1.feedback("a, c, a").message == "answers should be a dict like {'A': 'a', ...}, got str."
    assert q1.feedback({"A": "a", "B": "c"}).message == (
        "answers should have exactly the keys 'A', 'B' and 'C' (missing ['C'], unexpected [])."
    )
    assert q1.feedback({"A": "a", "B": "C", "C": "a"}).message == (
        "the answer for symptom B should be one of 'a', 'b', 'c', 'd', got 'C'."
    )


# q2: the logged raw norm with clipping


def test_q2():
    assert status(q2.feedback("c")) == "correct"
    assert status(q2.feedback(____)) == "blank"
    assert q2.feedback("a").message == "the logged norm is computed right after `tape.gradient`; where does Keras clip?"
    assert q2.feedback("d").message == "the deep MLP baseline never reaches NaN, even without clipping."
    assert q2.feedback(3).message == "prediction should be one of 'a', 'b', 'c', 'd', got 3."


# q3: clipnorm or global_clipnorm, against the measurement


def test_q3_compares_the_prediction_with_the_measurement():
    measured = clipping_results([0.19, 0.18, 0.2], [0.12, 0.13, 0.10])
    assert measured_winner(measured) == "clipnorm"
    assert status(q3.feedback("clipnorm", measured)) == "correct"
    assert status(q3.feedback(____, measured)) == "blank"
    wrong = q3.feedback("global_clipnorm", measured)
    assert wrong.status == "incorrect" and wrong.message.startswith("the sweep does not agree with your prediction")
    overlapping = clipping_results([0.19, 0.12, 0.2], [0.15, 0.13, 0.10])
    assert measured_winner(overlapping) == "neither"
    assert status(q3.feedback("neither", overlapping)) == "correct"
    assert status(q3.feedback("clipnorm", overlapping)) == "incorrect"


def test_q3_rejects_malformed_input():
    measured = clipping_results([0.19, 0.18, 0.2], [0.12, 0.13, 0.10])
    assert q3.feedback("global", measured).message == (
        "clipping_prediction should be one of 'clipnorm', 'global_clipnorm', 'neither', got 'global'."
    )
    assert q3.feedback("clipnorm", "table").message == "results should be the dict that compare.sweep returns, got str."
    assert q3.feedback("clipnorm", {"clipnorm": measured["clipnorm"]}).message.startswith(
        "results has no 'global_clipnorm' entry"
    )
    diverged = clipping_results([float("nan")] * 3, [0.1, 0.1, 0.1])
    assert q3.feedback("clipnorm", diverged).message.startswith("every 'clipnorm' run diverged")


# q4: the ratio of largest raw norms


def test_q4():
    assert status(q4.feedback(1.5)) == "correct"
    assert q4.feedback(1.5).message.startswith("≈1.5, the same order of magnitude")
    assert status(q4.feedback(____)) == "blank"
    assert q4.feedback(0.01).message.startswith("≈0.010 says clipping lowered the logged norm")
    assert q4.feedback(40.0).message.startswith("≈40 is far from 1. Did you compare the *largest* norms")
    assert q4.feedback(-1.0).message == "a ratio of two norms is positive."
    assert q4.feedback("1.5").message == "ratio should be a number, got str '1.5'."
    assert q4.feedback(math.nan).message == "ratio is nan: it should be a finite number."


# q5: He-ReLU + clipnorm


def he_relu_clipnorm(problem, seed):
    return problem.model(seed, activation="relu", weight_scale=compare.HE_SCALE), problem.sgd(
        clipnorm=compare.CLIP_NORM
    )


@pytest.fixture(scope="module")
def mlp():
    return compare.mlp_problem(**compare.LESSON_MLP)


def test_q5_accepts_the_solution_after_running_it(mlp):
    feedback = q5.feedback(he_relu_clipnorm, *he_relu_clipnorm(mlp, 0))
    assert feedback.status == "correct", feedback.message
    assert feedback.message.startswith("no NaN in 3/3 seeds, the largest raw gradient norm is ≈")
    assert "median test accuracy ≈" in feedback.message  # measured numbers, in approx's form
    assert status(q5.feedback(he_relu_clipnorm, ____, ____)) == "blank"


def test_q5_says_what_is_wrong_before_training(mlp):
    model, optimizer = he_relu_clipnorm(mlp, 0)
    tanh_model, _ = compare.baseline(mlp, 0)
    assert (
        q5.feedback(he_relu_clipnorm, tanh_model, optimizer).message
        == "the hidden activations should all be ReLU, got ['tanh']."
    )
    relu_at_4 = mlp.model(0, activation="relu")
    assert q5.feedback(he_relu_clipnorm, relu_at_4, optimizer).message.startswith(
        "the first kernel is drawn at sigma_w ≈4.0"
    )
    with_bn = mlp.model(0, activation="relu", weight_scale=compare.HE_SCALE, batch_norm=True)
    assert q5.feedback(he_relu_clipnorm, with_bn, optimizer).message.startswith(
        "this combination has no BatchNormalization"
    )
    assert q5.feedback(he_relu_clipnorm, model, mlp.sgd(global_clipnorm=1.0)).message.startswith(
        "that is global_clipnorm"
    )
    assert q5.feedback(he_relu_clipnorm, model, mlp.sgd()).message.startswith(
        "the optimizer should clip each variable's gradient to norm 1 (clipnorm), got clipnorm=None."
    )
    assert q5.feedback(he_relu_clipnorm, model, keras.optimizers.SGD(1.0, clipnorm=1.0)).message.startswith(
        "keep the baseline's SGD learning rate"
    )


def test_q5_catches_a_function_whose_runs_do_not_match_its_model(mlp):
    def builds_the_baseline(problem, seed):  # hands in a good model, but the function trains the tanh baseline
        return problem.model(seed), problem.sgd(clipnorm=compare.CLIP_NORM)

    feedback = q5.feedback(builds_the_baseline, *he_relu_clipnorm(mlp, 0))
    assert feedback.status == "incorrect" and feedback.message.startswith("a raw gradient norm reached")


def test_q5_rejects_malformed_input(mlp):
    model, optimizer = he_relu_clipnorm(mlp, 0)
    assert q5.feedback(None, model, optimizer).message == (
        "he_relu_clipnorm should be a function (problem, seed) -> (model, optimizer), got NoneType."
    )
    assert (
        q5.feedback(he_relu_clipnorm, "model", optimizer).message
        == "model should be the keras.Model your function returns, got str."
    )
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    assert q5.feedback(he_relu_clipnorm, unbuilt, optimizer).message.startswith("model is not built")
    assert q5.feedback(he_relu_clipnorm, model, "sgd").message == "optimizer should be a keras optimizer, got str."


# the one case rule of MultipleChoice (q2, q3); q1 keeps capitals for the symptoms, lower case for the fixes


def test_q2_and_q3_ignore_case_and_surrounding_spaces():
    assert status(q2.feedback(" C ")) == "correct"
    assert q2.feedback("A").message == "the logged norm is computed right after `tape.gradient`; where does Keras clip?"
    assert q2.feedback("e").message == "prediction should be one of 'a', 'b', 'c', 'd', got 'e'."
    measured = clipping_results([0.19, 0.18, 0.2], [0.12, 0.13, 0.10])
    assert status(q3.feedback("ClipNorm ", measured)) == "correct"
    assert status(q3.feedback("GLOBAL_CLIPNORM", measured)) == "incorrect"
