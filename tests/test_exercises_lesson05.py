"""Every lesson-05 check accepts the solution's answer, rejects wrong and malformed answers, and knows a blank."""

import math

import keras
import numpy as np
import pytest

from course_utils.checks import ____
from course_utils.data import load_digits
from course_utils.diagnostics import per_layer_growth, preactivation_gradient_norms
from course_utils.exercises.lesson05 import Q1_PAIRS, q1, q2, q3, q4, q5
from tests.exercise_support import assert_feedback


def test_q1_which_pair_explodes():
    assert q1.feedback("b").status == "correct"
    assert q1.feedback(" B ").status == "correct"
    assert_feedback(q1.feedback("a"), "incorrect", "saturation damps")
    assert_feedback(q1.feedback("d"), "incorrect", "Glorot was derived for tanh")
    assert_feedback(q1.feedback(2), "incorrect", "should be one of")
    assert q1.feedback(____).status == "blank"


def measure(x, y, pairs=Q1_PAIRS, images=512):
    """What the solution passes to q2: each pair's profile at initialisation and its fitted growth per layer."""
    profiles = {
        letter: preactivation_gradient_norms(pairing.build(), x[:images], y[:images])
        for letter, pairing in pairs.items()
    }
    return profiles, {letter: per_layer_growth(norms) for letter, norms in profiles.items()}


@pytest.fixture(scope="module")
def measured():
    (x, y), _ = load_digits()
    return measure(x, y)


def test_q2_accepts_the_measured_profiles_and_growth(measured):
    profiles, growth = measured
    feedback = q2.feedback(profiles, growth)
    assert_feedback(feedback, "correct", "only b grows", "theory 1.44")
    assert "≈" in feedback.message  # the measured growth is quoted in the approximate form
    # (first / last) ** (1 / 29), another fair way to read a growth per layer off the same profile, passes too
    endpoints = {letter: (norms[0] / norms[-1]) ** (1 / (len(norms) - 1)) for letter, norms in profiles.items()}
    assert q2.feedback(profiles, endpoints).status == "correct"


def test_q2_tells_pasting_from_measuring(measured):
    profiles, growth = measured
    predicted = {letter: pairing.predicted_growth() for letter, pairing in Q1_PAIRS.items()}
    # the paste: the theory's numbers where the measurements should be
    assert_feedback(q2.feedback(predicted, growth), "incorrect", "is one number", "pass the profile you measured")
    assert_feedback(q2.feedback(profiles, predicted), "incorrect", "the theory's prediction")
    # a made-up profile that follows the theory exactly is not the network's profile
    made_up = {letter: [g ** (29 - i) for i in range(30)] for letter, g in predicted.items()}
    assert_feedback(q2.feedback(made_up, predicted), "incorrect", "is not the profile of Q1_PAIRS['a'].build()")


def test_q2_names_the_real_mistakes(measured):
    profiles, growth = measured
    total = {letter: norms[0] / norms[-1] for letter, norms in profiles.items()}
    assert_feedback(q2.feedback(profiles, total), "incorrect", "total change over the 29 steps", "per layer")
    reversed_profiles = {letter: norms[::-1] for letter, norms in profiles.items()}
    assert_feedback(q2.feedback(reversed_profiles, growth), "incorrect", "input side first")
    inverse = {letter: 1.0 / g for letter, g in growth.items()}
    assert_feedback(q2.feedback(profiles, inverse), "incorrect", "1 / (the growth toward the input)")
    assert_feedback(q2.feedback(profiles, {**growth, "b": 1.0}), "incorrect", "does not fit your profile", "leaky_relu")
    (x, y), _ = load_digits()
    other_images, _ = measure(x[512:], y[512:], pairs={"a": Q1_PAIRS["a"]})
    assert_feedback(q2.feedback({**profiles, **other_images}, growth), "incorrect", "x_train[:512]")


def test_q2_rejects_malformed_and_blank(measured):
    profiles, growth = measured
    assert_feedback(q2.feedback({"a": profiles["a"]}, growth), "incorrect", "profiles has no entry for b, c, d")
    assert_feedback(q2.feedback(profiles, {"a": 0.64}), "incorrect", "growth has no entry for b, c, d")
    assert_feedback(q2.feedback(list(profiles.values()), growth), "incorrect", "profiles should be a dict")
    assert_feedback(q2.feedback(profiles, [0.64, 1.46, 0.69, 0.97]), "incorrect", "growth should be a dict")
    assert_feedback(q2.feedback({**profiles, "b": profiles["b"][:10]}, growth), "incorrect", "should hold 30 norms")
    assert_feedback(q2.feedback({**profiles, "c": "0.7"}, growth), "incorrect", "list of gradient norms")
    assert_feedback(q2.feedback(profiles, {**growth, "c": "0.7"}), "incorrect", "should be a number")
    assert_feedback(q2.feedback(profiles, {**growth, "a": float("nan")}), "incorrect", "finite")
    nan_profile = {**profiles, "d": [float("nan")] * 30}
    assert_feedback(q2.feedback(nan_profile, growth), "incorrect", "NaN or Inf")
    assert q2.feedback(____, ____).status == "blank"
    assert q2.feedback(profiles, ____).status == "blank"


@pytest.mark.parametrize("seed", [1, 2])
def test_q2_accepts_what_the_solution_measures_under_every_course_seed(seed, course_seed_reset):
    course_seed_reset(seed)  # COURSE_SEED=seed: other weights and another split of the digits
    (x, y), _ = load_digits()
    feedback = q2.feedback(*measure(x, y))
    assert_feedback(feedback, "correct", "only b grows")


def test_q3_he_scale():
    assert q3.feedback(math.sqrt(2)).status == "correct"
    assert_feedback(q3.feedback(2.0), "incorrect", "variance")
    assert_feedback(q3.feedback(1.0), "incorrect", "vanishes")
    assert_feedback(q3.feedback(4.0), "incorrect", "explodes")
    assert_feedback(q3.feedback(None), "incorrect", "should be a number")
    assert_feedback(q3.feedback(-1.0), "incorrect", "positive")
    assert q3.feedback(____).status == "blank"


def test_q3_is_a_number_with_a_trap():
    """Declared as a NumericAnswer: any way of writing sqrt(2) passes; the trap 2 keeps its message within 1%."""
    for answer in (2**0.5, 1.414, np.float32(math.sqrt(2)), np.array([1.4142])):
        assert_feedback(q3.feedback(answer), "correct", "Var(W) = 2 / fan_in")
    assert_feedback(q3.feedback(2.01), "incorrect", "*variance* factor")
    assert_feedback(q3.feedback(0.995), "incorrect", "Glorot's scale", "vanishes")
    assert_feedback(q3.feedback(1.45), "incorrect", "is not 1", "chi1(he_scale, 'relu')")  # 2.5% off: chi_1 = 1.05
    assert_feedback(q3.feedback(0.0), "incorrect", "positive")
    assert_feedback(q3.feedback("1.41"), "incorrect", "he_scale should be a number")
    assert_feedback(q3.feedback(float("nan")), "incorrect", "finite")


def test_q4_exact_leaky_relu_initializer():
    exact = keras.initializers.VarianceScaling(scale=2 / 1.04, mode="fan_in", distribution="truncated_normal", seed=0)
    assert q4.feedback(exact).status == "correct"
    assert_feedback(q4.feedback(keras.initializers.HeNormal(seed=0)), "incorrect", "He's scale")
    assert_feedback(q4.feedback(keras.initializers.VarianceScaling(scale=1.0)), "incorrect", "not 1")
    assert_feedback(q4.feedback("he_normal"), "incorrect", "is a name")
    assert_feedback(q4.feedback(np.zeros((64, 64))), "incorrect", "should be a keras.initializers.VarianceScaling")
    assert_feedback(q4.feedback(None), "incorrect", "NoneType")
    assert q4.feedback(____).status == "blank"


def leaky_he_model(depth=30, width=64, slope=0.2, initializer="he_normal", output=10, activation_layer=None):
    """The solution of q5, with one thing changed at a time."""
    model = keras.Sequential([keras.Input(shape=(64,))])
    for _ in range(depth):
        model.add(keras.layers.Dense(width, kernel_initializer=initializer))
        model.add(activation_layer() if activation_layer else keras.layers.LeakyReLU(negative_slope=slope))
    model.add(keras.layers.Dense(output))
    return model


def test_q5_accepts_the_keras_model_with_leaky_relu_and_he():
    feedback = q5.feedback(leaky_he_model())
    assert_feedback(feedback, "correct", "chi_1 = 1.04", "per layer toward the input")
    assert "≈" in feedback.message  # its measured profile, in the approximate form
    seeded = leaky_he_model(initializer=keras.initializers.HeNormal(seed=0))
    assert q5.feedback(seeded).status == "correct"
    exact = keras.initializers.VarianceScaling(scale=2 / 1.04, mode="fan_in", distribution="truncated_normal")
    assert q5.feedback(leaky_he_model(initializer=exact)).status == "correct"  # q4's exact scale is welcome


def test_q5_rejects_wrong_models():
    glorot = q5.feedback(leaky_he_model(initializer="glorot_uniform"))
    assert_feedback(glorot, "incorrect", "GlorotUniform", "Keras' default", "chi_1 = 0.52")
    assert_feedback(q5.feedback(leaky_he_model(slope=0.3)), "incorrect", "negative_slope = 0.3 (the layer's default)")
    assert_feedback(q5.feedback(leaky_he_model(slope=0.1)), "incorrect", "negative_slope = 0.1")
    relu = q5.feedback(leaky_he_model(activation_layer=keras.layers.ReLU))
    assert_feedback(relu, "incorrect", "followed by ReLU")
    activation = q5.feedback(leaky_he_model(activation_layer=lambda: keras.layers.Activation("leaky_relu")))
    assert_feedback(activation, "incorrect", "followed by Activation")
    assert_feedback(q5.feedback(leaky_he_model(depth=10)), "incorrect", "10 hidden Dense layers", "baseline has 30")
    assert_feedback(q5.feedback(leaky_he_model(width=32)), "incorrect", "32 units")
    assert_feedback(q5.feedback(leaky_he_model(output=1)), "incorrect", "Dense(10)")
    normal = q5.feedback(leaky_he_model(initializer=keras.initializers.RandomNormal(stddev=0.05)))
    assert_feedback(normal, "incorrect", "RandomNormal", "he_normal")


def test_q5_rejects_malformed_and_blank():
    own_activation = keras.Sequential([keras.Input(shape=(64,))])
    for _ in range(30):
        own_activation.add(keras.layers.Dense(64, activation="leaky_relu", kernel_initializer="he_normal"))
    own_activation.add(keras.layers.Dense(10))
    assert_feedback(q5.feedback(own_activation), "incorrect", "applies its own activation")
    unbuilt = keras.Sequential(
        [keras.layers.Dense(64), keras.layers.LeakyReLU(negative_slope=0.2), keras.layers.Dense(10)]
    )
    assert_feedback(q5.feedback(unbuilt), "incorrect", "never built")
    assert_feedback(q5.feedback("he_normal"), "incorrect", "should be a Keras model")
    assert_feedback(q5.feedback(None), "incorrect", "should be a Keras model")
    softmax = leaky_he_model()
    softmax.add(keras.layers.Softmax())
    assert_feedback(q5.feedback(softmax), "incorrect", "the last layer should be the output layer")
    assert q5.feedback(____).status == "blank"
