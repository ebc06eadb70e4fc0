"""Every lesson-06 check accepts the solution's answer, rejects wrong and malformed answers, and knows a blank."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import baselines
from course_utils.checks import ____
from course_utils.data import load_digits
from course_utils.exercises.lesson06 import Q5_BATCH, q1, q2, q3, q4, q5
from course_utils.gradients import layer_gradient_norms
from course_utils.models import deep_mlp
from course_utils.seeding import course_seed
from tests.exercise_support import assert_feedback


def sequential(*layers):
    return keras.Sequential([keras.Input(shape=(64,)), *layers, keras.layers.Dense(10)])


def test_q1_batchnorm_in_the_right_place():
    assert q1.feedback(deep_mlp(depth=30, width=64, weight_scale=4.0, batch_norm=True)).status == "correct"
    assert_feedback(q1.feedback(deep_mlp(depth=30, width=64, weight_scale=4.0)), "incorrect", "no BatchNormalization")
    after = sequential(keras.layers.Dense(64), keras.layers.Activation("tanh"), keras.layers.BatchNormalization())
    assert_feedback(q1.feedback(after), "incorrect", "Activation -> BatchNormalization")
    inside = sequential(keras.layers.Dense(64, activation="tanh"), keras.layers.BatchNormalization())
    assert_feedback(q1.feedback(inside), "incorrect", "applies its own activation")
    assert_feedback(
        q1.feedback(deep_mlp(depth=3, width=64, weight_scale=4.0, batch_norm=True)), "incorrect", "expected 30 blocks"
    )
    assert_feedback(
        q1.feedback(deep_mlp(depth=30, width=64, weight_scale=1.0, batch_norm=True)), "incorrect", "sigma_w = 4"
    )
    assert_feedback(
        q1.feedback(deep_mlp(depth=30, width=64, activation="relu", weight_scale=4.0, batch_norm=True)),
        "incorrect",
        "tanh",
    )


def test_q1_malformed_models():
    # the course's one check of a model (checks.expect_built_model): "never built", "should be a Keras model"
    assert_feedback(
        q1.feedback(keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization()])),
        "incorrect",
        "never built",
    )
    assert_feedback(q1.feedback("model"), "incorrect", "should be a Keras model")
    assert_feedback(q1.feedback(None), "incorrect", "NoneType")
    assert q1.feedback(____).status == "blank"


def test_q2_compare_profiles():
    assert q2.feedback(1.3e5, 6.2).status == "correct"
    assert_feedback(q2.feedback(1.3e5, 1.3e5), "incorrect", "far from flat")
    assert_feedback(q2.feedback(1 / 1.3e5, 1 / 6.2), "incorrect", "divide last by first")
    assert_feedback(q2.feedback(30.0, 6.2), "incorrect", "spread_baseline")
    assert_feedback(q2.feedback("1e5", 6.2), "incorrect", "should be a number")
    assert_feedback(q2.feedback(1.3e5, float("nan")), "incorrect", "finite")
    assert q2.feedback(____, 6.2).status == "blank"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_q1_and_q2_accept_the_solution_under_every_course_seed(seed, course_seed_reset):
    course_seed_reset(seed)  # COURSE_SEED=seed: other weights and another split of the digits
    (x, y), _ = load_digits()
    layers = [keras.Input(shape=(64,))]
    for i in range(30):  # the solution's model
        init = keras.initializers.RandomNormal(stddev=0.5, seed=course_seed(i))
        layers += [
            keras.layers.Dense(64, kernel_initializer=init),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("tanh"),
        ]
    model = keras.Sequential(layers + [keras.layers.Dense(10)])
    assert q1.feedback(model).status == "correct"
    baseline = layer_gradient_norms(baselines.mlp_baseline(), x, y)
    with_bn = layer_gradient_norms(model, x, y)
    feedback = q2.feedback(baseline[0] / baseline[-2], with_bn[0] / with_bn[-2])
    assert_feedback(feedback, "correct", "BN removed")
    assert "≈" in feedback.message  # measured spreads are quoted in the approximate form


def test_q3_predict_scaled_batchnorm():
    assert q3.feedback([-1.342, -0.447, 0.447, 1.342]).status == "correct"
    assert q3.feedback(np.array([[-1.342], [-0.447], [0.447], [1.342]])).status == "correct"  # a column is fine too
    assert_feedback(q3.feedback([-150.0, -50.0, 50.0, 150.0]), "incorrect", "grew with the input")
    assert_feedback(q3.feedback([1.0, 2.0, 3.0, 4.0]), "incorrect", "subtracts the batch mean")
    assert_feedback(q3.feedback([-3.0, -1.0, 1.0, 3.0]), "incorrect", "spread")
    assert_feedback(q3.feedback([0.0, 1.0]), "incorrect", "4 numbers")
    assert_feedback(q3.feedback("[-1.3, -0.4, 0.4, 1.3]"), "incorrect", "list of 4 numbers")
    assert_feedback(q3.feedback(None), "incorrect", "list of 4 numbers")
    assert q3.feedback(____).status == "blank"


def q4_model():
    return deep_mlp(depth=3, width=64, weight_scale=4.0, batch_norm=True)


def kernel_gradient_norms(model, x, y, scales=(1.0, 5.0), training=True, restore=True, layer=0):
    """The solution's measurement: ||dL/dW|| of model.layers[layer].kernel with the kernel at each of ``scales`` * W."""
    kernel, loss_fn = model.layers[layer].kernel, keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    start = kernel.numpy()
    norms = []
    for scale in scales:
        kernel.assign(scale * start)
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=training))
        norms.append(float(tf.norm(tape.gradient(loss, kernel))))
    if restore:
        kernel.assign(start)
    return norms


@pytest.fixture(scope="module")
def digits():
    (x, y), _ = load_digits()
    return x, y


def test_q4_accepts_a_measurement(digits):
    model = q4_model()
    at_w, at_5w = kernel_gradient_norms(model, *digits)
    feedback = q4.feedback(model, at_w, at_5w)
    assert_feedback(feedback, "correct", "eta / ||W||^2", "≈0.20", "≈0.040")
    assert q4.feedback(model, np.float32(at_w), tf.constant(at_5w)).status == "correct"  # NumPy / tensor numbers
    assert np.array_equal(model.layers[0].kernel.numpy(), q4_model().layers[0].kernel.numpy())  # the check put W back


@pytest.mark.parametrize("seed", [1, 2])
def test_q4_accepts_the_solution_under_other_course_seeds(seed, course_seed_reset):
    course_seed_reset(seed)
    (x, y), _ = load_digits()
    model = q4_model()
    assert q4.feedback(model, *kernel_gradient_norms(model, x, y)).status == "correct"


def test_q4_rejects_typed_in_and_wrong_measurements(digits):
    model = q4_model()
    at_w, at_5w = kernel_gradient_norms(model, *digits)
    # typed in: the prediction's ratio without a measurement
    assert_feedback(q4.feedback(model, 1.0, 0.2), "incorrect", "not the gradient norms the check measures")
    # the gradient scaled by hand instead of the kernel (5x larger), or the kernel never scaled
    assert_feedback(q4.feedback(model, at_w, 5 * at_w), "incorrect", "not measured with the kernel at 5 W")
    assert_feedback(q4.feedback(model, at_w, at_w), "incorrect", "not measured with the kernel at 5 W")
    # inference mode: BN uses its moving statistics and is not scale-invariant
    inference = kernel_gradient_norms(model, *digits, training=False)
    assert_feedback(q4.feedback(model, *inference), "incorrect", "training=True")
    # another layer's kernel (the second hidden Dense layer, model.layers[3])
    second = kernel_gradient_norms(model, *digits, layer=3)
    assert_feedback(q4.feedback(model, *second), "incorrect", "not the gradient norms")
    # the kernel left at 5 W
    left = q4_model()
    measured = kernel_gradient_norms(left, *digits, restore=False)
    assert_feedback(q4.feedback(left, *measured), "incorrect", "left at 5 W")


def test_q4_malformed_and_blank(digits):
    model = q4_model()
    at_w, at_5w = kernel_gradient_norms(model, *digits)
    assert_feedback(q4.feedback(model, "0.8", at_5w), "incorrect", "grad_at_w should be a number")
    assert_feedback(q4.feedback(model, at_w, np.array([at_5w, at_5w])), "incorrect", "shape (2,)")
    assert_feedback(q4.feedback(model, -at_w, at_5w), "incorrect", "positive")
    assert_feedback(q4.feedback(model, at_w, float("nan")), "incorrect", "finite")
    assert_feedback(q4.feedback("model", at_w, at_5w), "incorrect", "should be a Keras model")
    no_bn = deep_mlp(depth=3, width=64, weight_scale=4.0)
    assert_feedback(q4.feedback(no_bn, *kernel_gradient_norms(no_bn, *digits)), "incorrect", "followed by BatchNorm")
    assert q4.feedback(model, ____, ____).status == "blank"
    assert q4.feedback(____, at_w, at_5w).status == "blank"


def fresh_layer():
    layer = keras.layers.BatchNormalization()
    layer(Q5_BATCH, training=False)
    return layer


def test_q5_recalibrated_moving_statistics():
    layer = fresh_layer()
    layer.momentum = 0.0
    layer(Q5_BATCH, training=True)
    assert q5.feedback(layer).status == "correct"
    assert_feedback(q5.feedback(fresh_layer()), "incorrect", "moving mean ~0")
    once = fresh_layer()
    once(Q5_BATCH, training=True)  # momentum 0.99: 1% of the way
    assert_feedback(q5.feedback(once), "incorrect", "only 1% of the way")


def test_q5_malformed_layers():
    assert_feedback(q5.feedback(keras.layers.BatchNormalization()), "incorrect", "never built")
    wrong_width = keras.layers.BatchNormalization()
    wrong_width(np.zeros((4, 3), dtype="float32"))
    assert_feedback(q5.feedback(wrong_width), "incorrect", "built for 3 units")
    assert_feedback(q5.feedback(keras.layers.Dense(8)), "incorrect", "BatchNormalization layer itself")
    assert_feedback(q5.feedback(Q5_BATCH), "incorrect", "ndarray")
    assert q5.feedback(____).status == "blank"
