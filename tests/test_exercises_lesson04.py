"""Every lesson-04 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import math

import keras
import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.approx import approx
from course_utils.checks import ____
from course_utils.data import load_digits
from course_utils.exercises.lesson04 import q1, q2, q3, q4
from course_utils.models import deep_mlp, simple_rnn
from tests.exercise_support import assert_feedback


def test_q1_step_zero_prediction():
    assert_feedback(q1.feedback("B"), "correct", "the first step is the same")
    assert_feedback(q1.feedback("a"), "incorrect", "does not scale the data gradient")
    assert_feedback(q1.feedback("C"), "incorrect", "compare its size")
    assert_feedback(q1.feedback("D"), "incorrect", "should be one of 'A', 'B', 'C'")
    assert_feedback(q1.feedback(0.5), "incorrect", "should be one of")
    assert q1.feedback(____).status == "blank"


def test_q1_one_case_rule_for_letters():
    """The course's one rule for a multiple choice: any case, surrounding spaces ignored, right or wrong."""
    for answer in ("B", "b", " b\n"):
        assert_feedback(q1.feedback(answer), "correct", "the first step is the same")
    assert_feedback(q1.feedback(" c "), "incorrect", "compare its size")
    assert_feedback(q1.feedback("d"), "incorrect", "should be one of 'A', 'B', 'C', got 'd'")
    assert_feedback(q1.feedback(""), "incorrect", "should be one of")
    assert_feedback(q1.feedback(None), "incorrect", "should be one of")


@pytest.fixture(scope="module")
def penalised_mlp():
    return deep_mlp(depth=2, width=8, weight_scale=4.0, kernel_regularizer=keras.regularizers.l2(0.01))


def solution_norms(model):
    (x_train, y_train), _ = load_digits()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape(persistent=True) as tape:
        data_loss = loss_fn(y_train, model(x_train, training=True))
        penalty = tf.add_n(model.losses)
    data_norm = float(tf.linalg.global_norm(tape.gradient(data_loss, model.trainable_variables)))
    penalty_grads = tape.gradient(penalty, model.trainable_variables)
    penalty_norm = float(tf.linalg.global_norm([g for g in penalty_grads if g is not None]))
    return data_norm, penalty_norm, float(penalty)


def test_q2_gradient_split_at_step_zero(penalised_mlp):
    data_norm, penalty_norm, penalty = solution_norms(penalised_mlp)
    assert_feedback(
        q2.feedback(penalised_mlp, data_norm, penalty_norm), "correct", "times smaller than the data loss's"
    )
    ratio = approx(data_norm / penalty_norm)  # the measured ratio, in the printed form of measured values
    assert_feedback(
        q2.feedback(penalised_mlp, data_norm, penalty_norm), "correct", f"gradient is {ratio} times smaller"
    )
    assert_feedback(q2.feedback(penalised_mlp, tf.constant(data_norm), np.float32(penalty_norm)), "correct")
    assert_feedback(q2.feedback(penalised_mlp, data_norm, penalty), "incorrect", "the penalty's value")
    assert_feedback(
        q2.feedback(penalised_mlp, data_norm, 2 * penalty_norm), "incorrect", "not the norm of the gradient of"
    )
    assert_feedback(q2.feedback(penalised_mlp, data_norm / 3, penalty_norm), "incorrect", "on the whole training set")
    # malformed
    no_penalty = deep_mlp(depth=2, width=8)
    assert_feedback(q2.feedback(no_penalty, data_norm, penalty_norm), "incorrect", "no weight penalty")
    assert_feedback(q2.feedback(keras.Sequential([keras.layers.Dense(2)]), 1.0, 1.0), "incorrect", "never built")
    assert_feedback(q2.feedback("model", 1.0, 1.0), "incorrect", "should be a Keras model, got str")
    assert_feedback(q2.feedback(penalised_mlp, "big", penalty_norm), "incorrect", "data_norm should be a number")
    assert_feedback(q2.feedback(penalised_mlp, data_norm, tf.ones((2, 2))), "incorrect", "one number")
    assert q2.feedback(penalised_mlp, ____, ____).status == "blank"


def small_rnn(**regularizers):
    return simple_rnn(units=4, timesteps=5, recurrent_scale=1.5, **regularizers)


def test_q3_penalty_on_the_recurrent_matrix():
    solution = small_rnn(recurrent_regularizer=keras.regularizers.l2(0.01))
    assert_feedback(q3.feedback(solution), "correct", "0.01 * sum(W_h**2)")
    both = small_rnn(kernel_regularizer=keras.regularizers.l2(0.01), recurrent_regularizer=keras.regularizers.l2(0.01))
    assert_feedback(q3.feedback(both), "correct")
    assert_feedback(
        q3.feedback(small_rnn(kernel_regularizer=keras.regularizers.l2(0.01))), "incorrect", "only the input kernel"
    )
    assert_feedback(
        q3.feedback(small_rnn(recurrent_regularizer=keras.regularizers.l1(0.01))),
        "incorrect",
        "not an L2 penalty of strength 0.01",
    )
    assert_feedback(
        q3.feedback(small_rnn(recurrent_regularizer=keras.regularizers.l2(0.1))), "incorrect", "strength 0.01"
    )
    assert_feedback(q3.feedback(small_rnn()), "incorrect", "no weight penalty at all")
    assert_feedback(q3.feedback(deep_mlp(depth=2, width=8)), "incorrect", "no recurrent layer")
    # malformed
    assert_feedback(q3.feedback(keras.Sequential([keras.layers.SimpleRNN(3)])), "incorrect", "never built")
    assert_feedback(q3.feedback("recurrent_regularizer"), "incorrect", "should be a Keras model, got str")
    assert_feedback(q3.feedback(None), "incorrect", "should be a Keras model, got NoneType")
    assert q3.feedback(____).status == "blank"


def test_q4_weight_decay_steps():
    solution = math.log(1.5) / -math.log(1 - 2 * 0.1 * 0.01)
    assert_feedback(q4.feedback(solution), "correct", "about 203 steps")
    assert_feedback(q4.feedback(200), "correct")
    assert_feedback(q4.feedback(2 * solution), "incorrect", "twice too many")
    assert_feedback(q4.feedback(50), "incorrect", "that is not how many steps")
    assert_feedback(q4.feedback(-3), "incorrect", "positive")
    assert_feedback(q4.feedback("203"), "incorrect", "should be a number, got str")
    assert_feedback(q4.feedback(float("inf")), "incorrect", "finite")
    assert q4.feedback(____).status == "blank"
    assert_feedback(q4.feedback(np.float32(solution)), "correct")
    assert_feedback(
        q4.feedback(2 * solution * 1.03), "incorrect", "twice too many"
    )  # the trap has the answer's tolerance
