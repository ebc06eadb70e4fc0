"""Looking inside a deep network, layer by layer (Karpathy's makemore part 3 diagnostics).

One forward and backward pass with ``trace_layers`` records, for every hidden
block ``Dense -> [BatchNormalization ->] Activation`` of a ``keras.Sequential``
model, the pre-activations h_l, the activations phi(h_l), the loss gradient
dL/dh_l and each Dense kernel with its gradient. The helpers below turn that
into the numbers the lessons print and plot: per-layer gradient-norm profiles,
their growth rate, the saturated fraction of tanh units and the grad:data ratio.

    >>> from course_utils.data import load_digits
    >>> from course_utils.models import deep_mlp
    >>> (x, y), _ = load_digits()
    >>> norms = preactivation_gradient_norms(deep_mlp(depth=20, width=64, weight_scale=4.0), x, y)
    >>> 1.45 < per_layer_growth(norms) < 1.65  # mean-field theory: sqrt(chi_1) = 1.54 at sigma_w = 4
    True
"""

from dataclasses import dataclass

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import require_same_length
from course_utils.gradients import default_loss, require_built_model

SATURATION_THRESHOLD = 0.97  # makemore part 3: a tanh unit with |tanh(h)| > 0.97 passes < 6% of its gradient


@dataclass
class LayerTrace:
    """What one pass through a deep MLP saw, one entry per hidden layer, input side first (NumPy arrays).

    ``kernels`` and ``kernel_grads`` also hold the output layer's kernel (last entry).
    """

    preactivations: list  # h_l, the input of each Activation layer, shape (n, width)
    activations: list  # phi(h_l)
    preactivation_grads: list  # dL/dh_l, the "delta" that backpropagation carries
    kernels: list  # each Dense kernel W_l
    kernel_grads: list  # dL/dW_l


def trace_layers(model, x, y, loss_fn=None):
    """Run ``model`` on ``(x, y)`` layer by layer under one ``GradientTape`` and return a ``LayerTrace``.

    ``model`` must be a built ``keras.Sequential`` whose hidden nonlinearities are
    ``Activation`` layers (as ``models.deep_mlp`` builds it). The loss is ``loss_fn``
    (default: sparse categorical cross-entropy on logits) in training mode.

        >>> trace = trace_layers(deep_mlp(depth=3, width=8), x[:16], y[:16])   # doctest: +SKIP
        >>> len(trace.activations), len(trace.kernels)                          # doctest: +SKIP
        (3, 4)
    """
    require_built_model(model)
    require_same_length(x, y)
    if not isinstance(model, keras.Sequential):
        raise ValueError(f"trace_layers needs a keras.Sequential model, got {type(model).__name__}")
    if not any(isinstance(layer, keras.layers.Activation) for layer in model.layers):
        raise ValueError(f"model {model.name!r} has no Activation layers to trace (build it with models.deep_mlp)")
    loss_fn = loss_fn or default_loss()
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    preactivations, activations = [], []
    with tf.GradientTape() as tape:
        h = tf.convert_to_tensor(x)
        for layer in model.layers:
            if isinstance(layer, keras.layers.Activation):
                preactivations.append(h)  # a tensor computed under the tape: we can differentiate w.r.t. it
                h = layer(h)
                activations.append(h)
            else:
                h = layer(h, training=True)
        loss = loss_fn(y, h)
    kernels = [layer.kernel for layer in dense]
    preactivation_grads, kernel_grads = tape.gradient(loss, (preactivations, kernels))
    return LayerTrace(
        preactivations=_to_numpy(preactivations),
        activations=_to_numpy(activations),
        preactivation_grads=_to_numpy(preactivation_grads),
        kernels=_to_numpy(kernels),
        kernel_grads=_to_numpy(kernel_grads),
    )


def _to_numpy(tensors):
    return [tensor.numpy() for tensor in tensors]


def preactivation_gradient_norms(model, x, y, loss_fn=None):
    """L2 norm of dL/dh_l for every hidden layer's pre-activation h_l, input side first.

    This is the quantity mean-field theory describes: it changes by sqrt(chi_1) per layer.
    (Kernel gradients dL/dW_l = h_{l-1}^T dL/dh_l also carry the size of the layer's
    input, which hides vanishing gradients when the forward signal shrinks too.)
    """
    return [float(np.linalg.norm(g)) for g in trace_layers(model, x, y, loss_fn).preactivation_grads]


def growth_rate(values):
    """Factor by which ``values`` change per step, from a least-squares line through log(values).

    >>> round(growth_rate([1.0, 2.0, 4.0, 8.0]), 6)
    2.0
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"growth_rate needs a 1-D sequence of at least 2 values, got shape {values.shape}")
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError("growth_rate needs finite, positive values (a norm of exactly 0 or NaN has no logarithm)")
    slope = np.polyfit(np.arange(values.size), np.log(values), 1)[0]
    return float(np.exp(slope))


def per_layer_growth(norms):
    """Per-layer growth factor toward the input of a profile listed input side first (> 1: exploding).

    >>> round(per_layer_growth([8.0, 4.0, 2.0, 1.0]), 6)
    2.0
    """
    return growth_rate(list(norms)[::-1])


def saturated_fraction(activations, threshold=SATURATION_THRESHOLD):
    """Share of tanh outputs with |a| > ``threshold``: units whose derivative 1 - a**2 is nearly 0.

    >>> saturated_fraction(np.array([0.0, 0.5, 0.99, -1.0]))
    0.5
    """
    values = np.concatenate([np.ravel(a) for a in activations]) if isinstance(activations, list) else activations
    return float(np.mean(np.abs(values) > threshold))


def grad_to_data_ratios(trace):
    """std(dL/dW) / std(W) for each kernel of a ``LayerTrace``, input side first (output layer last).

    Times the learning rate, it is the relative size of a plain SGD update (makemore's
    "update:data ratio", healthy around 1e-3).
    """
    return [float(np.std(g) / np.std(w)) for g, w in zip(trace.kernel_grads, trace.kernels)]


def plot_layer_histograms(ax, arrays, labels, log10_abs=False, bins=60):
    """Karpathy-style overlaid histograms, one line per layer.

    ``arrays`` holds one array per layer; with ``log10_abs=True`` the histogram is of
    log10|value| (for gradients, whose layers differ by orders of magnitude; exact
    zeros are left out). Returns ``ax``.
    """
    if len(arrays) != len(labels):
        raise ValueError(f"got {len(arrays)} arrays but {len(labels)} labels")
    flat = [np.ravel(a) for a in arrays]
    if log10_abs:
        flat = [np.log10(np.abs(a[a != 0])) for a in flat]
    edges = np.histogram_bin_edges(np.concatenate(flat), bins=bins)
    for values, label in zip(flat, labels):
        counts, _ = np.histogram(values, bins=edges, density=True)
        ax.plot(0.5 * (edges[1:] + edges[:-1]), counts, label=label)
    ax.set_ylabel("density")
    ax.legend()
    return ax
