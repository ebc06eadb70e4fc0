import math

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.diagnostics import (  # noqa: E402
    grad_to_data_ratios,
    growth_rate,
    per_layer_growth,
    plot_layer_histograms,
    preactivation_gradient_norms,
    saturated_fraction,
    trace_layers,
)
from course_utils.gradients import layer_gradient_norms  # noqa: E402
from course_utils.models import deep_mlp  # noqa: E402
from course_utils.theory import chi1  # noqa: E402


def classification_data(n=64, input_dim=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, input_dim)).astype("float32"), rng.integers(0, 3, size=n)


def small_mlp(**kwargs):
    return deep_mlp(**{"depth": 3, "width": 8, "weight_scale": 2.0, "input_dim": 8, "num_classes": 3, **kwargs})


def test_trace_matches_a_hand_written_forward_and_backward_pass():
    x, y = classification_data()
    model = small_mlp()
    trace = trace_layers(model, x, y)
    kernels = [
        layer.kernel.numpy().astype(np.float64) for layer in model.layers if isinstance(layer, keras.layers.Dense)
    ]
    # forward: h_l = a_{l-1} W_l (zero biases), a_l = tanh(h_l); logits = a_3 W_out
    a, pre, act = x.astype(np.float64), [], []
    for w in kernels[:-1]:
        pre.append(a @ w)
        a = np.tanh(pre[-1])
        act.append(a)
    logits = a @ kernels[-1]
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    upstream = (probs - np.eye(3)[y]) / len(y) @ kernels[-1].T  # dL/da of the last hidden layer
    expected_grads = [None] * len(pre)
    for k in reversed(range(len(pre))):
        expected_grads[k] = upstream * (1 - np.tanh(pre[k]) ** 2)  # dL/dh_k
        upstream = expected_grads[k] @ kernels[k].T  # dL/da_{k-1}
    for got, want in zip(trace.preactivations, pre):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for got, want in zip(trace.activations, act):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for got, want in zip(trace.preactivation_grads, expected_grads):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-7)


def test_trace_kernel_gradients_agree_with_layer_gradient_norms():
    x, y = classification_data()
    model = small_mlp()
    trace = trace_layers(model, x, y)
    assert len(trace.kernels) == len(trace.kernel_grads) == 4 and len(trace.activations) == 3
    np.testing.assert_allclose(
        [np.linalg.norm(g) for g in trace.kernel_grads], layer_gradient_norms(model, x, y), rtol=1e-5
    )


def test_trace_works_with_batch_norm_between_dense_and_activation():
    x, y = classification_data()
    trace = trace_layers(small_mlp(batch_norm=True), x, y)
    # the Activation's input is the BatchNormalization output: standardised per unit in training mode
    np.testing.assert_allclose(trace.preactivations[0].mean(axis=0), 0.0, atol=1e-4)


def test_trace_rejects_models_it_cannot_trace():
    x, y = classification_data()
    no_activation_layers = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="tanh")])
    with pytest.raises(ValueError, match="no Activation layers"):
        trace_layers(no_activation_layers, x, y)
    inputs = keras.Input((8,))
    functional = keras.Model(inputs, keras.layers.Activation("tanh")(keras.layers.Dense(3)(inputs)))
    with pytest.raises(ValueError, match="keras.Sequential"):
        trace_layers(functional, x, y)
    with pytest.raises(ValueError, match="not built yet"):
        trace_layers(keras.Sequential([keras.layers.Dense(3), keras.layers.Activation("tanh")]), x, y)


def test_preactivation_profile_grows_at_sqrt_chi1_above_the_edge_and_vanishes_below():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(256, 64)).astype("float32"), rng.integers(0, 10, size=256)
    exploding = preactivation_gradient_norms(deep_mlp(depth=20, width=64, weight_scale=4.0), x, y)
    vanishing = preactivation_gradient_norms(deep_mlp(depth=20, width=64, weight_scale=0.5), x, y)
    assert len(exploding) == 20
    assert abs(per_layer_growth(exploding) / math.sqrt(chi1(4.0)) - 1) < 0.1
    assert abs(per_layer_growth(vanishing) / math.sqrt(chi1(0.5)) - 1) < 0.1


def test_growth_rate_and_per_layer_growth():
    assert growth_rate([3.0 * 1.5**k for k in range(10)]) == pytest.approx(1.5)
    assert per_layer_growth([2.0**-k for k in range(10)]) == pytest.approx(2.0)  # listed input side first
    with pytest.raises(ValueError, match="positive"):
        growth_rate([1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        growth_rate([1.0])


def test_saturated_fraction_counts_units_beyond_the_threshold():
    assert saturated_fraction(np.array([0.0, 0.96, 0.98, -0.99])) == 0.5
    assert saturated_fraction([np.array([0.99]), np.array([0.1, 0.2, 0.3])]) == 0.25
    assert saturated_fraction(np.array([0.5, 0.6]), threshold=0.55) == 0.5


def test_grad_to_data_ratio_is_std_of_gradient_over_std_of_weights():
    x, y = classification_data()
    trace = trace_layers(small_mlp(), x, y)
    ratios = grad_to_data_ratios(trace)
    assert len(ratios) == 4
    assert ratios[0] == pytest.approx(np.std(trace.kernel_grads[0]) / np.std(trace.kernels[0]))


def test_plot_layer_histograms_draws_one_line_per_layer():
    fig, ax = plt.subplots()
    plot_layer_histograms(ax, [np.array([1.0, 2.0, 0.0]), np.array([1e-3, -1e-4])], ["a", "b"], log10_abs=True)
    assert len(ax.lines) == 2 and [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    with pytest.raises(ValueError, match="labels"):
        plot_layer_histograms(ax, [np.zeros(3)], ["a", "b"])
    plt.close(fig)
