"""Every lesson-03 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import dataclasses
import math

import keras
import numpy as np
import pytest

from course_utils import baselines
from course_utils._quiet_tf import tf
from course_utils.checks import ____
from course_utils.exercises.lesson03 import q1, q2, q3, q4, q5
from course_utils.gradients import GradientLog, train_with_gradient_log
from tests.exercise_support import assert_feedback


def test_q1_which_option_keeps_the_direction():
    assert_feedback(q1.feedback("B"), "correct", "same direction")
    assert_feedback(q1.feedback(" b "), "correct")
    assert_feedback(q1.feedback("A"), "incorrect", "clipnorm scales each variable on its own")
    assert_feedback(q1.feedback("C"), "incorrect", "clipvalue clips each number")
    assert_feedback(q1.feedback("D"), "incorrect", "at least one of the three")
    assert_feedback(q1.feedback(2), "incorrect", "should be one of 'A', 'B', 'C', 'D', got 2")
    assert_feedback(q1.feedback(None), "incorrect", "should be one of")
    assert q1.feedback(____).status == "blank"


def logged(norms):
    return GradientLog(grad_norms=list(norms), losses=[0.0] * len(norms), steps_per_epoch=len(norms))


def test_q2_threshold_from_logged_norms():
    log = logged(np.linspace(0.5, 2.0, 50))
    average = float(np.mean(log.grad_norms))  # the solution
    assert_feedback(q2.feedback(average, log.fraction_above(average), log), "correct", "inside Pascanu's range")
    assert_feedback(q2.feedback(100.0, 0.0, log), "incorrect", "outside Pascanu's 0.5-10x")
    assert_feedback(q2.feedback(0.1, 1.0, log), "incorrect", "outside Pascanu's 0.5-10x")
    assert_feedback(q2.feedback(average, 0.9, log), "incorrect", "is not the share of logged steps")
    narrow = logged(np.linspace(1.0, 1.1, 20))
    assert_feedback(q2.feedback(0.6, 1.0, narrow), "incorrect", "clips every logged step")
    # malformed
    assert_feedback(q2.feedback(average, 30, log), "incorrect", "between 0 and 1")
    assert_feedback(q2.feedback(-1.0, 0.5, log), "incorrect", "must be positive")
    assert_feedback(q2.feedback("1.2", 0.5, log), "incorrect", "threshold should be a number, got str")
    assert_feedback(
        q2.feedback(tf.constant([1.0, 2.0]), 0.5, log), "incorrect", "should be one number, got an array of shape (2,)"
    )
    assert_feedback(q2.feedback(average, 0.5, "log"), "incorrect", "should be the GradientLog")
    assert_feedback(q2.feedback(average, 0.5, logged([1.0, float("nan")])), "incorrect", "fewer than 10 finite")
    assert q2.feedback(____, ____, log).status == "blank"


def solution_step(model, optimizer, loss_fn, x, y, clip_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    clipped, raw_norm = tf.clip_by_global_norm(grads, clip_norm)
    optimizer.apply(clipped, model.trainable_variables)
    return raw_norm


def per_variable_step(model, optimizer, loss_fn, x, y, clip_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply([tf.clip_by_norm(g, clip_norm) for g in grads], model.trainable_variables)
    return tf.linalg.global_norm(grads)


def unclipped_step(model, optimizer, loss_fn, x, y, clip_norm):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply(grads, model.trainable_variables)
    return tf.linalg.global_norm(grads)


def test_q3_clipped_training_step():
    assert_feedback(q3.feedback(solution_step), "correct", "Algorithm 1")
    assert_feedback(q3.feedback(tf.function(solution_step)), "correct")
    assert_feedback(q3.feedback(per_variable_step), "incorrect", "does not point along the raw gradient")
    assert_feedback(q3.feedback(unclipped_step), "incorrect", "longer than clip_norm")
    returns_clipped_norm = lambda *args: min(float(solution_step(*args)), args[-1])  # noqa: E731
    assert_feedback(q3.feedback(returns_clipped_norm), "incorrect", "norm after clipping")
    assert_feedback(q3.feedback(lambda *args: None), "incorrect", "weights did not change")
    assert_feedback(q3.feedback(lambda model, x: 1.0), "incorrect", "raised TypeError")
    # malformed
    assert_feedback(q3.feedback(None), "incorrect", "should be a function, got NoneType")
    assert_feedback(q3.feedback("def step(): ..."), "incorrect", "should be a function, got str")
    assert q3.feedback(____).status == "blank"


def test_q4_clipnorm_bound():
    assert_feedback(q4.feedback(math.sqrt(5)), "correct", "sqrt(5)")
    assert_feedback(q4.feedback(tf.constant(2.236)), "correct")
    assert_feedback(q4.feedback(2.2), "correct")  # lesson 03 prints sqrt(5) as 2.2
    assert_feedback(q4.feedback(1.0), "incorrect", "global_clipnorm's bound")
    assert_feedback(q4.feedback(5), "incorrect", "square root of a sum of squares")
    assert_feedback(q4.feedback(3.0), "incorrect", "not the largest norm")
    assert_feedback(q4.feedback("2.24"), "incorrect", "should be a number, got str")
    assert_feedback(q4.feedback(np.ones(3)), "incorrect", "should be one number")
    assert q4.feedback(____).status == "blank"
    assert_feedback(q4.feedback(0.999), "incorrect", "global_clipnorm's bound")  # traps within the tolerance
    assert_feedback(q4.feedback(2.0), "incorrect", "not the largest norm")


def adam_run(optimizer, model=None):
    """One epoch of the RNN baseline (or ``model``) with ``optimizer``, as exercise 5 asks: (optimizer, log)."""
    (x, y), _ = baselines.adding_data()
    model = model or baselines.rnn_baseline()
    log = train_with_gradient_log(model, x, y, optimizer, epochs=1, batch_size=64, loss_fn=baselines.mse_loss())
    return optimizer, log


@pytest.fixture(scope="module")
def adam_runs():
    """The solution's two runs: Adam(1e-3) and Adam(1e-3, clipnorm=1.0), each on a fresh RNN baseline."""
    return adam_run(keras.optimizers.Adam(learning_rate=1e-3)), adam_run(
        keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)
    )


def test_q5_adam_with_and_without_clipnorm(adam_runs):
    plain, clipped = adam_runs
    assert_feedback(q5.feedback(*plain, *clipped), "correct", "clips before Adam's moment estimates")
    # wrong: swapped, both unclipped, another clipping option or threshold, another optimizer
    assert_feedback(q5.feedback(*clipped, *plain), "incorrect", "adam should train without clipping")
    assert_feedback(q5.feedback(*plain, *plain), "incorrect", "clipped_adam does not clip")
    global_adam = keras.optimizers.Adam(learning_rate=1e-3, global_clipnorm=1.0)
    assert_feedback(q5.feedback(*plain, global_adam, clipped[1]), "incorrect", "asks for clipnorm (per variable)")
    loose_adam = keras.optimizers.Adam(learning_rate=1e-3, clipnorm=5.0)
    assert_feedback(q5.feedback(*plain, loose_adam, clipped[1]), "incorrect", "use the recipe's 1.0")
    sgd = keras.optimizers.SGD(learning_rate=0.1)
    assert_feedback(q5.feedback(sgd, plain[1], *clipped), "incorrect", "should be a keras.optimizers.Adam, got SGD")
    # wrong: never trained, a log that is not this optimizer's, another model, a diverged log
    untrained = keras.optimizers.Adam(learning_rate=1e-3)
    assert_feedback(q5.feedback(untrained, plain[1], *clipped), "incorrect", "adam never took a step")
    assert_feedback(q5.feedback(plain[0], logged([1.0] * 10), *clipped), "incorrect", "logs 10 steps but adam took")
    other_model = keras.optimizers.Adam(learning_rate=1e-3)
    other_model.build([tf.Variable(tf.zeros(3))])
    other_model.iterations.assign(len(plain[1].losses))
    assert_feedback(q5.feedback(other_model, plain[1], *clipped), "incorrect", "did not train the RNN baseline")
    diverged = dataclasses.replace(plain[1], diverged_at=len(plain[1].losses) - 1)
    assert_feedback(q5.feedback(plain[0], diverged, *clipped), "incorrect", "ends in NaN/Inf")
    # malformed
    assert_feedback(
        q5.feedback("adam", None, "clipped", None), "incorrect", "should be a keras.optimizers.Adam, got str"
    )
    assert_feedback(q5.feedback(plain[0], [1.0, 2.0], *clipped), "incorrect", "should be the GradientLog")
    assert q5.feedback(____, ____, ____, ____).status == "blank"
    assert q5.feedback(*plain, ____, ____).status == "blank"


def test_q5_rejects_a_model_trained_twice(adam_runs):
    """The learner's likely slip: one model trained first without, then with clipping (it no longer starts fresh)."""
    plain, _ = adam_runs
    model = baselines.rnn_baseline()
    adam_run(keras.optimizers.Adam(learning_rate=1e-3), model)
    trained_again = adam_run(keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0), model)
    assert_feedback(q5.feedback(*plain, *trained_again), "incorrect", "did not start where the baseline starts")
