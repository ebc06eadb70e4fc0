"""Every lesson-08 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import math

import keras
import numpy as np
import pytest

from course_utils.architectures import recurrent_model, state_jacobian_norms
from course_utils.checks import ____
from course_utils.data import adding_problem
from course_utils.diagnostics import growth_rate
from course_utils.exercises.lesson08 import T_PROBE, q1, q2, q3, q4, q5, q6, set_forget_bias
from course_utils.seeding import course_seed
from tests.exercise_support import assert_feedback


def scaled_dense(i):
    return keras.layers.Dense(
        64, kernel_initializer=keras.initializers.RandomNormal(stddev=4.0 / math.sqrt(64), seed=course_seed(i))
    )


def pre_norm_block(h, i):  # the solution
    branch = keras.layers.Activation("tanh")(scaled_dense(i)(keras.layers.LayerNormalization()(h)))
    return keras.layers.Add()([h, branch])


def post_norm_block(h, i):  # LayerNorm on the sum instead of the branch
    return keras.layers.LayerNormalization()(
        keras.layers.Add()([h, keras.layers.Activation("tanh")(scaled_dense(i)(h))])
    )


def skip_without_norm(h, i):
    return keras.layers.Add()([h, keras.layers.Activation("tanh")(scaled_dense(i)(h))])


def norm_without_skip(h, i):
    return keras.layers.Activation("tanh")(scaled_dense(i)(keras.layers.LayerNormalization()(h)))


def default_initialiser(h, i):
    branch = keras.layers.Activation("tanh")(keras.layers.Dense(64)(keras.layers.LayerNormalization()(h)))
    return keras.layers.Add()([h, branch])


def test_q1_residual_block():
    assert_feedback(q1.feedback(pre_norm_block), "correct", "against about 1e5 without skips")
    assert_feedback(q1.feedback(post_norm_block), "incorrect", "still grows")
    assert_feedback(q1.feedback(skip_without_norm), "incorrect", "no LayerNormalization")
    assert_feedback(q1.feedback(norm_without_skip), "incorrect", "no skip connection")
    assert_feedback(q1.feedback(default_initialiser), "incorrect", "sigma_w")


def test_q1_rejects_malformed_answers():
    assert_feedback(q1.feedback(3), "incorrect", "should be a function", "int")
    assert_feedback(q1.feedback(lambda h, i: 1.0), "incorrect", "Keras tensor")
    assert_feedback(q1.feedback(lambda h, i: keras.layers.Dense(32)(h)), "incorrect", "same shape")
    assert_feedback(q1.feedback(lambda h: h), "incorrect", "could not be checked")
    assert q1.feedback(____).status == "blank"


@pytest.fixture(scope="module")
def probes():
    x, _ = adding_problem(32, T_PROBE)
    lstm = state_jacobian_norms(recurrent_model("lstm", timesteps=T_PROBE), x)
    simple = state_jacobian_norms(recurrent_model("simple", timesteps=T_PROBE), x)["h"]
    opened_model = recurrent_model("lstm", timesteps=T_PROBE)
    set_forget_bias(opened_model, 3.0)
    opened = state_jacobian_norms(opened_model, x)
    return lstm, simple, opened


def test_q2_lstm_versus_simple_rnn(probes):
    lstm, simple, _ = probes
    assert_feedback(q2.feedback(lstm["c"][-1], simple[-1]), "correct", "times more")
    assert_feedback(q2.feedback(simple[-1], lstm["c"][-1]), "incorrect", "swapped")
    assert_feedback(q2.feedback(lstm["h"][-1], simple[-1]), "incorrect", "hidden-state path")
    assert_feedback(q2.feedback(lstm["c"][-1], simple[-2]), "incorrect", "simple is not")
    assert_feedback(q2.feedback(lstm["c"][-1], 1.03 * simple[-1]), "incorrect", "simple is not")
    assert_feedback(q2.feedback(lstm["c"][10], simple[-1]), "incorrect", "lstm_cell is not")
    assert_feedback(q2.feedback("0.1", simple[-1]), "incorrect", "should be a number, got str")
    assert_feedback(q2.feedback(lstm["c"], simple[-1]), "incorrect", "one number, got an array")
    assert q2.feedback(____, ____).status == "blank"


def test_q3_open_the_forget_gate(probes):
    lstm, _, opened = probes
    assert_feedback(q3.feedback(growth_rate(opened["c"][1:])), "correct", "sigma(3) = 0.95")
    assert_feedback(q3.feedback(growth_rate(lstm["c"][1:])), "incorrect", "default forget bias")
    assert_feedback(q3.feedback(growth_rate(opened["h"][1:])), "incorrect", "hidden-state path")
    assert_feedback(q3.feedback(1.5), "incorrect", "not the per-step factor")
    assert_feedback(q3.feedback(np.ones(T_PROBE - 1)), "incorrect", "one number, got an array")
    assert_feedback(q3.feedback(float("nan")), "incorrect", "finite")
    assert q3.feedback(____).status == "blank"


def test_q4_layer_norm_in_the_recurrence():
    assert_feedback(q4.feedback("b"), "correct", "scale-invariant")
    assert_feedback(q4.feedback(" B "), "correct")
    assert_feedback(q4.feedback("a"), "incorrect", "still grow")
    assert_feedback(q4.feedback("c"), "incorrect", "NaN")
    assert_feedback(q4.feedback("d"), "incorrect", "one example at one step")
    assert_feedback(q4.feedback(2), "incorrect", "should be one of")
    assert q4.feedback(____).status == "blank"


def test_q5_irnn_and_clipping():
    assert_feedback(q5.feedback("b"), "correct", "only clipping")
    assert_feedback(q5.feedback("B"), "correct", "only clipping")
    assert_feedback(q5.feedback("a"), "incorrect", "unclipped")
    assert_feedback(q5.feedback("c"), "incorrect", "clipped one")
    assert_feedback(q5.feedback("d"), "incorrect", "far below")
    assert_feedback(q5.feedback(None), "incorrect", "should be one of")
    assert q5.feedback(____).status == "blank"


def test_q6_deep_pre_norm_trains():
    assert_feedback(q6.feedback(0.82), "correct", "at depth 100")
    assert_feedback(q6.feedback(0.11), "incorrect", "close to chance")
    assert_feedback(q6.feedback(82.0), "incorrect", "between 0 and 1")
    assert_feedback(q6.feedback("0.8"), "incorrect", "should be a number, got str")
    assert q6.feedback(____).status == "blank"
