import keras
import numpy as np
import pytest

from course_utils.models import deep_mlp, simple_rnn


def kernels(model):
    return [layer.kernel.numpy() for layer in model.layers if isinstance(layer, keras.layers.Dense)]


@pytest.mark.parametrize("weight_scale", [0.5, 1.0, 4.0])
def test_kernel_std_is_weight_scale_over_sqrt_fan_in(weight_scale):
    model = deep_mlp(depth=3, width=256, weight_scale=weight_scale, input_dim=100)
    hidden = kernels(model)[:-1]
    for kernel, fan_in in zip(hidden, [100, 256, 256]):
        expected = weight_scale / np.sqrt(fan_in)
        # 25,600+ samples: the sample std is within ~0.5% of the true std; allow 3%
        assert kernel.std() == pytest.approx(expected, rel=0.03)
        assert abs(kernel.mean()) < 3 * expected / np.sqrt(kernel.size)


def test_default_initialiser_is_keras_glorot_uniform():
    kernel = kernels(deep_mlp(depth=1, width=64, input_dim=64))[0]
    limit = np.sqrt(6 / (64 + 64))
    assert np.abs(kernel).max() <= limit
    assert kernel.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)


def test_same_seed_same_network_and_layers_differ():
    a, b = kernels(deep_mlp(2, 32, weight_scale=2.0)), kernels(deep_mlp(2, 32, weight_scale=2.0))
    for ka, kb in zip(a, b):
        np.testing.assert_array_equal(ka, kb)
    assert not np.array_equal(a[1], a[2])  # layers get different seeds
    assert not np.array_equal(a[0], kernels(deep_mlp(2, 32, weight_scale=2.0, seed=1))[0])


def test_layer_order_and_names_without_and_with_batch_norm():
    plain = deep_mlp(depth=2, width=8, activation="relu")
    assert [layer.name for layer in plain.layers] == ["dense_0", "relu_0", "dense_1", "relu_1", "output"]
    normed = deep_mlp(depth=2, width=8, batch_norm=True)
    types = [type(layer).__name__ for layer in normed.layers]
    assert types == ["Dense", "BatchNormalization", "Activation"] * 2 + ["Dense"]
    assert normed.output_shape == (None, 10)


def test_kernel_regularizer_is_attached_to_every_dense_layer():
    model = deep_mlp(depth=3, width=8, kernel_regularizer=keras.regularizers.l2(0.01))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert all(isinstance(layer.kernel_regularizer, keras.regularizers.L2) for layer in dense)
    model(np.zeros((1, 64), dtype="float32"))
    assert len(model.losses) == len(dense)
    expected = sum(0.01 * np.sum(k**2) for k in kernels(model))
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.5])
def test_recurrent_matrix_spectral_radius_and_singular_values_equal_scale(scale):
    model = simple_rnn(units=32, timesteps=10, recurrent_scale=scale)
    recurrent = model.get_layer("rnn").cell.recurrent_kernel.numpy().astype(np.float64)
    assert np.abs(np.linalg.eigvals(recurrent)).max() == pytest.approx(scale, abs=1e-4)
    np.testing.assert_allclose(np.linalg.svd(recurrent, compute_uv=False), scale, atol=1e-4)


def test_simple_rnn_shapes():
    model = simple_rnn(units=8, timesteps=5, recurrent_scale=1.0)
    assert model.output_shape == (None, 1)
    assert model.get_layer("rnn").cell.activation is keras.activations.tanh


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(depth=0, width=8), "depth must be an int >= 1"),
        (dict(depth=2, width=0), "width must be an int >= 1"),
        (dict(depth=2.0, width=8), "depth must be an int >= 1"),
        (dict(depth=2, width=8, weight_scale=0), "weight_scale must be a finite number > 0"),
        (dict(depth=2, width=8, weight_scale=-1.0), "weight_scale must be a finite number > 0"),
        (dict(depth=2, width=8, activation="swish"), "activation must be one of 'leaky_relu', 'linear', 'relu'"),
    ],
)
def test_deep_mlp_rejects_bad_arguments_clearly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        deep_mlp(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(units=8, timesteps=1, recurrent_scale=1.0), "timesteps must be an int >= 2"),
        (dict(units=0, timesteps=5, recurrent_scale=1.0), "units must be an int >= 1"),
        (dict(units=8, timesteps=5, recurrent_scale=0.0), "recurrent_scale must be a finite number > 0"),
    ],
)
def test_simple_rnn_rejects_bad_arguments_clearly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simple_rnn(**kwargs)


def test_deep_mlp_takes_a_named_keras_initializer_seeded_per_layer():
    import keras

    model = deep_mlp(depth=2, width=16, activation="relu", kernel_initializer="he_normal", seed=3)
    expected = keras.initializers.get({"class_name": "he_normal", "config": {"seed": 3 + 1}})((16, 16))
    assert np.allclose(model.get_layer("dense_1").kernel.numpy(), expected)
    with pytest.raises(ValueError, match="not both"):
        deep_mlp(depth=2, width=16, weight_scale=2.0, kernel_initializer="he_normal")
