import math

import keras
import numpy as np
import pytest

from course_utils.activations import Pairing, Profile, dense_output_gradient_norms, gradient_profiles, regime
from course_utils.data import load_digits
from course_utils.diagnostics import preactivation_gradient_norms
from course_utils.seeding import course_seed


@pytest.fixture(scope="module")
def digits():
    (x, y), _ = load_digits()
    return x[:256], y[:256]


@pytest.mark.parametrize(
    "pairing, weight_scale, chi",
    [
        (Pairing("tanh", "glorot_normal"), 1.0, 1.0),
        (Pairing("relu", "he_normal"), math.sqrt(2.0), 1.0),
        (Pairing("relu", "glorot_normal"), 1.0, 0.5),
        (Pairing("relu", 4.0), 4.0, 8.0),
        (Pairing("leaky_relu", "he_normal"), math.sqrt(2.0), 1.04),
    ],
)
def test_pairing_knows_its_weight_scale_and_chi1(pairing, weight_scale, chi):
    assert pairing.weight_scale == pytest.approx(weight_scale)
    assert pairing.chi1() == pytest.approx(chi, rel=1e-6)
    assert pairing.predicted_growth() == pytest.approx(math.sqrt(chi), rel=1e-6)


def test_labels_and_equality():
    assert Pairing("relu", "he_normal").label == "relu + he_normal"
    assert Pairing("tanh", 4.0).label == "tanh, sigma_w = 4"
    assert Pairing("tanh", 4.0) == Pairing("tanh", 4)  # usable as a dict key
    assert len({Pairing("tanh", 4.0), Pairing("tanh", 4)}) == 1


@pytest.mark.parametrize(
    "activation, initializer, message",
    [
        ("swish", "he_normal", "activation must be one of"),
        ("relu", "lecun_normal", "initializer must be one of"),
        ("relu", -1.0, "weight scale"),
        ("relu", None, "initializer must be one of"),
    ],
)
def test_pairing_rejects_bad_arguments(activation, initializer, message):
    with pytest.raises(ValueError, match=message):
        Pairing(activation, initializer)


def test_named_initializer_builds_dense_layers_with_that_initializer_and_the_right_scale():
    model = Pairing("relu", "he_normal").build(depth=3, width=256)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    names = [layer.name for layer in model.layers]
    assert names == ["dense_0", "relu_0", "dense_1", "relu_1", "dense_2", "relu_2", "output"]
    assert all(isinstance(layer.kernel_initializer, keras.initializers.HeNormal) for layer in dense)
    hidden = dense[1].kernel.numpy()  # a square 256x256 kernel: std x sqrt(fan_in) is sigma_w
    assert np.std(hidden) * math.sqrt(256) == pytest.approx(math.sqrt(2.0), rel=0.03)


def test_build_is_repeatable_and_numeric_scale_uses_deep_mlp():
    pairing = Pairing("tanh", "glorot_normal")
    a, b = pairing.build(depth=2, width=8), pairing.build(depth=2, width=8)
    np.testing.assert_array_equal(a.layers[0].kernel.numpy(), b.layers[0].kernel.numpy())
    scaled = Pairing("tanh", 2.0).build(depth=2, width=8)
    assert isinstance(scaled.layers[0].kernel_initializer, keras.initializers.RandomNormal)


def test_profiles_follow_theory(digits):
    x, y = digits
    pairings = [Pairing("relu", "he_normal"), Pairing("relu", 4.0), Pairing("relu", "glorot_normal")]
    profiles = gradient_profiles(pairings, x, y, depth=15)
    assert [len(p.norms) for p in profiles] == [15, 15, 15]
    for profile in profiles:
        assert profile.measured_growth() == pytest.approx(profile.pairing.predicted_growth(), rel=0.10)
    assert [regime(p.measured_growth()) for p in profiles] == ["stable", "explodes", "vanishes"]


def test_profile_growth_ignores_layers_that_underflowed_to_zero():
    profile = Profile(Pairing("sigmoid", "glorot_normal"), [0.0, 0.0, 1e-3, 1e-2, 1e-1])
    assert profile.underflowed_layers == 2
    assert profile.measured_growth() == pytest.approx(0.1)


def test_gradient_profiles_rejects_a_single_pairing(digits):
    with pytest.raises(ValueError, match="list of Pairing"):
        gradient_profiles(Pairing("relu", "he_normal"), *digits)


def test_regime():
    assert [regime(g) for g in (2.0, 1.04, 0.96, 0.5)] == ["explodes", "stable", "stable", "vanishes"]
    with pytest.raises(ValueError, match="finite number > 0"):
        regime(float("nan"))


def test_dense_output_gradient_norms_measure_a_keras_model_with_leaky_relu_layers(digits):
    """Lesson 05's Keras model (LeakyReLU layers, seeded He) has the profile of Pairing("leaky_relu", "he_normal")."""
    x, y = digits
    model = keras.Sequential([keras.Input(shape=(64,))])
    for i in range(8):
        model.add(keras.layers.Dense(64, kernel_initializer=keras.initializers.HeNormal(seed=course_seed(i))))
        model.add(keras.layers.LeakyReLU(negative_slope=0.2))
    model.add(keras.layers.Dense(10, kernel_initializer=keras.initializers.HeNormal(seed=course_seed(8))))
    same = Pairing("leaky_relu", "he_normal").build(depth=8)
    norms = dense_output_gradient_norms(model, x, y)
    assert len(norms) == 8
    np.testing.assert_allclose(norms, preactivation_gradient_norms(same, x, y), rtol=1e-4)


def test_dense_output_gradient_norms_rejects_models_without_hidden_dense_layers(digits):
    x, y = digits
    only_output = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="needs hidden Dense layers"):
        dense_output_gradient_norms(only_output, x, y)
    with pytest.raises(ValueError, match="not built"):
        dense_output_gradient_norms(keras.Sequential([keras.layers.Dense(10)]), x, y)
