"""Every lesson-06 check accepts the solution's answer, rejects wrong and malformed answers, and knows a blank."""

import keras
import numpy as np
import pytest

from course_utils.checks import ____
from course_utils.exercises.lesson06 import Q5_BATCH, q1, q2, q3, q4, q5
from course_utils.models import deep_mlp


def status_and_message(question, *answers):
    feedback = question.feedback(*answers)
    return feedback.status, feedback.message


def sequential(*layers):
    return keras.Sequential([keras.Input(shape=(64,)), *layers, keras.layers.Dense(10)])


def test_q1_batchnorm_in_the_right_place():
    assert q1.feedback(deep_mlp(depth=30, width=64, weight_scale=4.0, batch_norm=True)).status == "correct"
    status, message = status_and_message(q1, deep_mlp(depth=30, width=64, weight_scale=4.0))
    assert status == "incorrect" and "no BatchNormalization" in message
    after = sequential(keras.layers.Dense(64), keras.layers.Activation("tanh"), keras.layers.BatchNormalization())
    status, message = status_and_message(q1, after)
    assert status == "incorrect" and "Activation -> BatchNormalization" in message
    inside = sequential(keras.layers.Dense(64, activation="tanh"), keras.layers.BatchNormalization())
    status, message = status_and_message(q1, inside)
    assert status == "incorrect" and "applies its own activation" in message
    status, message = status_and_message(q1, deep_mlp(depth=3, width=64, weight_scale=4.0, batch_norm=True))
    assert status == "incorrect" and "expected 30 blocks" in message
    status, message = status_and_message(q1, deep_mlp(depth=30, width=64, weight_scale=1.0, batch_norm=True))
    assert status == "incorrect" and "sigma_w = 4" in message
    status, message = status_and_message(q1, deep_mlp(depth=30, width=64, activation="relu", weight_scale=4.0, batch_norm=True))
    assert status == "incorrect" and "tanh" in message


def test_q1_malformed_models():
    status, message = status_and_message(q1, keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization()]))
    assert status == "incorrect" and "not built" in message
    status, message = status_and_message(q1, "model")
    assert status == "incorrect" and "should be a keras.Model" in message
    status, message = status_and_message(q1, None)
    assert status == "incorrect" and "NoneType" in message
    assert q1.feedback(____).status == "blank"


def test_q2_compare_profiles():
    assert q2.feedback(1.3e5, 6.2).status == "correct"
    status, message = status_and_message(q2, 1.3e5, 1.3e5)
    assert status == "incorrect" and "far from flat" in message
    status, message = status_and_message(q2, 1 / 1.3e5, 1 / 6.2)
    assert status == "incorrect" and "divide last by first" in message
    status, message = status_and_message(q2, 30.0, 6.2)
    assert status == "incorrect" and "spread_baseline" in message
    status, message = status_and_message(q2, "1e5", 6.2)
    assert status == "incorrect" and "should be a number" in message
    status, message = status_and_message(q2, 1.3e5, float("nan"))
    assert status == "incorrect" and "finite" in message
    assert q2.feedback(____, 6.2).status == "blank"


def test_q3_predict_scaled_batchnorm():
    assert q3.feedback([-1.342, -0.447, 0.447, 1.342]).status == "correct"
    assert q3.feedback(np.array([[-1.342], [-0.447], [0.447], [1.342]])).status == "correct"  # a column is fine too
    status, message = status_and_message(q3, [-150.0, -50.0, 50.0, 150.0])
    assert status == "incorrect" and "grew with the input" in message
    status, message = status_and_message(q3, [1.0, 2.0, 3.0, 4.0])
    assert status == "incorrect" and "subtracts the batch mean" in message
    status, message = status_and_message(q3, [-3.0, -1.0, 1.0, 3.0])
    assert status == "incorrect" and "spread" in message
    status, message = status_and_message(q3, [0.0, 1.0])
    assert status == "incorrect" and "4 numbers" in message
    status, message = status_and_message(q3, "[-1.3, -0.4, 0.4, 1.3]")
    assert status == "incorrect" and "list of 4 numbers" in message
    status, message = status_and_message(q3, None)
    assert status == "incorrect" and "list of 4 numbers" in message
    assert q3.feedback(____).status == "blank"


def test_q4_gradient_scale_factor():
    assert q4.feedback(0.2).status == "correct"
    status, message = status_and_message(q4, 5)
    assert status == "incorrect" and "does the gradient" in message
    status, message = status_and_message(q4, 1.0)
    assert status == "incorrect" and "scaled weights" in message
    status, message = status_and_message(q4, 1 / 25)
    assert status == "incorrect" and "one factor of 1/a too many" in message
    status, message = status_and_message(q4, 0.5)
    assert status == "incorrect" and "not the factor" in message
    status, message = status_and_message(q4, None)
    assert status == "incorrect" and "should be a number" in message
    assert q4.feedback(____).status == "blank"


def fresh_layer():
    layer = keras.layers.BatchNormalization()
    layer(Q5_BATCH, training=False)
    return layer


def test_q5_recalibrated_moving_statistics():
    layer = fresh_layer()
    layer.momentum = 0.0
    layer(Q5_BATCH, training=True)
    assert q5.feedback(layer).status == "correct"
    status, message = status_and_message(q5, fresh_layer())
    assert status == "incorrect" and "moving mean ~0" in message
    once = fresh_layer()
    once(Q5_BATCH, training=True)  # momentum 0.99: 1% of the way
    status, message = status_and_message(q5, once)
    assert status == "incorrect" and "only 1% of the way" in message


def test_q5_malformed_layers():
    status, message = status_and_message(q5, keras.layers.BatchNormalization())
    assert status == "incorrect" and "never built" in message
    wrong_width = keras.layers.BatchNormalization()
    wrong_width(np.zeros((4, 3), dtype="float32"))
    status, message = status_and_message(q5, wrong_width)
    assert status == "incorrect" and "built for 3 units" in message
    status, message = status_and_message(q5, keras.layers.Dense(8))
    assert status == "incorrect" and "BatchNormalization layer itself" in message
    status, message = status_and_message(q5, Q5_BATCH)
    assert status == "incorrect" and "ndarray" in message
    assert q5.feedback(____).status == "blank"


@pytest.mark.parametrize("question", [q1, q2, q3, q4, q5])
def test_every_question_has_hints_and_a_solution(question, capsys):
    question.hint()
    question.solution()
    out = capsys.readouterr().out
    assert "Hint 1/" in out and "Solution:" in out
