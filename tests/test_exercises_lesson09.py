"""Every lesson-09 check accepts the solution, rejects wrong and malformed answers, and recognises the blank."""

import math

import keras
import numpy as np
import pytest

from course_utils._quiet_tf import tf
from course_utils.checks import ____
from course_utils.exercises.lesson09 import q1, q2, q3, q4
from course_utils.monitor import GradientMonitor
from tests.exercise_support import assert_feedback


@pytest.fixture(scope="module")
def watched():
    """A small deep tanh model of 'your own', watched by a monitor over 2 steps of fit."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 8)).astype("float32")
    y = rng.integers(0, 3, size=64)
    layers = [keras.Input((8,))]
    for i in range(6):
        init = keras.initializers.RandomNormal(stddev=3.0 / math.sqrt(8), seed=i)
        layers.append(keras.layers.Dense(8, activation="tanh", kernel_initializer=init, name=f"hidden_{i}"))
    model = keras.Sequential(layers + [keras.layers.Dense(3, name="logits")])
    model.compile(
        optimizer=keras.optimizers.SGD(0.05), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    monitor = GradientMonitor(x[:32], y[:32])
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[monitor])
    return monitor


def test_q1_monitor_your_own_model(watched):
    first = watched.history[0]["layer_norms"]
    largest = max(first, key=first.get)  # the solution
    smallest = min(first, key=first.get)
    assert_feedback(q1.feedback(watched, largest), "correct", f"{largest} gets the largest gradient at initialisation")
    assert_feedback(q1.feedback(watched, smallest), "incorrect", "is not the layer with the largest gradient norm")
    assert_feedback(q1.feedback(watched, "dense_7"), "incorrect", "is not one of the monitored layers")
    # malformed
    assert_feedback(q1.feedback(watched, 0), "incorrect", "should be a layer's name (a str), got int")
    assert_feedback(q1.feedback(watched.history, largest), "incorrect", "should be your GradientMonitor, got list")
    assert_feedback(q1.feedback(GradientMonitor(np.ones((2, 8)), np.ones(2)), largest), "incorrect", "has no records")
    assert q1.feedback(____, ____).status == "blank"
    assert q1.feedback(watched, ____).status == "blank"


def test_q1_rejects_a_monitor_whose_first_record_is_not_step_0(watched):
    late = GradientMonitor(np.ones((2, 8)), np.ones(2))
    late.history = [dict(watched.history[1])]
    assert_feedback(q1.feedback(late, "hidden_0"), "incorrect", "first record is not step 0")


def test_q2_first_non_finite_batch():
    losses = [1.0, 10.0, 1e30, float("inf"), float("nan")]
    assert_feedback(q2.feedback(3, losses), "correct", "is the first non-finite loss")
    assert_feedback(q2.feedback(np.int64(3), np.array(losses)), "correct")
    assert_feedback(q2.feedback(2, losses), "incorrect", "loss recorded at batch 2 is still finite")
    assert_feedback(q2.feedback(4, losses), "incorrect", "is non-finite, but it is not the first one")
    assert_feedback(q2.feedback(5, losses), "incorrect", "5 is not one of them")
    assert_feedback(q2.feedback(1, [1.0, 2.0]), "incorrect", "every recorded loss is finite")
    # malformed
    assert_feedback(q2.feedback(3.0, losses), "incorrect", "should be a batch index (an int), got float")
    assert_feedback(q2.feedback("3", losses), "incorrect", "should be a batch index (an int), got str")
    assert_feedback(q2.feedback(3, []), "incorrect", "non-empty list of losses")
    assert_feedback(q2.feedback(3, "losses"), "incorrect", "non-empty list of losses")
    assert_feedback(q2.feedback(0, ["nan"]), "incorrect", "each recorded loss should be a number, got str")
    assert q2.feedback(____, losses).status == "blank"
    assert q2.feedback(____, ____).status == "blank"


def test_q3_warmup_schedule():
    solution = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=1000, warmup_target=1e-3, warmup_steps=100)
    assert_feedback(q3.feedback(solution), "correct", "linear warmup to 1e-3")
    no_warmup = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=1100)
    assert_feedback(q3.feedback(no_warmup), "incorrect", "a warmup starts from 0")
    short = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=1000, warmup_target=1e-3, warmup_steps=50)
    assert_feedback(q3.feedback(short), "incorrect", "at step 100")
    wrong_peak = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=1000, warmup_target=1e-2, warmup_steps=100)
    assert_feedback(q3.feedback(wrong_peak), "incorrect", "the peak, 1e-3")
    long_decay = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=5000, warmup_target=1e-3, warmup_steps=100)
    assert_feedback(q3.feedback(long_decay), "incorrect", "reaches 0 at step 1100")
    # malformed
    assert_feedback(
        q3.feedback(1e-3), "incorrect", "should be a keras.optimizers.schedules.LearningRateSchedule, got float"
    )
    assert_feedback(q3.feedback(keras.optimizers.Adam()), "incorrect", "got Adam")
    assert q3.feedback(____).status == "blank"


def test_q4_loss_scale_after_overflows():
    assert_feedback(q4.feedback(32768 / 2**4 * 2), "correct", "double it once")
    assert_feedback(q4.feedback(tf.constant(4096.0)), "correct")
    assert_feedback(q4.feedback(2048), "incorrect", "the finite steps that follow change the scale too")
    assert_feedback(q4.feedback(8192), "incorrect", "once per dynamic_growth_steps")
    assert_feedback(q4.feedback(65536), "incorrect", "growth waits for a run of finite steps")
    assert_feedback(q4.feedback(1000), "incorrect", "replay it one step at a time")
    # malformed
    assert_feedback(q4.feedback(-4096), "incorrect", "a loss scale is positive")
    assert_feedback(q4.feedback("4096"), "incorrect", "should be a number, got str")
    assert_feedback(q4.feedback(float("inf")), "incorrect", "should be a finite number")
    assert q4.feedback(____).status == "blank"


def test_q4_answer_is_what_the_real_optimizer_does():
    variable = keras.Variable([1.0])
    optimizer = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(0.1), initial_scale=32768.0, dynamic_growth_steps=3
    )
    optimizer.build([variable])
    for gradient in [np.inf] * 4 + [1.0] * 5:
        optimizer.apply([tf.constant([gradient])], [variable])
    assert float(optimizer.dynamic_scale.numpy()) == 4096.0
    assert q4.feedback(float(optimizer.dynamic_scale.numpy())).status == "correct"


def test_q4_traps_come_before_the_generic_message_and_tolerance_is_tight():
    assert_feedback(q4.feedback(np.float32(2048.0)), "incorrect", "the finite steps that follow change the scale too")
    assert_feedback(q4.feedback(4097), "incorrect", "replay it one step at a time")
    assert_feedback(q4.feedback(0), "incorrect", "a loss scale is positive")
