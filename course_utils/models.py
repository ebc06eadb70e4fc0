"""The two networks the course breaks and then repairs.

>>> model = deep_mlp(depth=3, width=16, weight_scale=2.0)
>>> [layer.name for layer in model.layers]  # doctest: +NORMALIZE_WHITESPACE
['dense_0', 'tanh_0', 'dense_1', 'tanh_1', 'dense_2', 'tanh_2', 'output']
>>> rnn = simple_rnn(units=8, timesteps=20, recurrent_scale=1.5)
>>> [layer.name for layer in rnn.layers]
['rnn', 'readout']
"""

import math

import keras

from course_utils._validate import require_choice, require_positive_int, require_positive_number
from course_utils.seeding import course_seed

ACTIVATIONS = {"tanh", "sigmoid", "relu", "leaky_relu", "linear"}


def scaled_normal(weight_scale, fan_in, seed):
    """Kernel initialiser drawing from N(0, weight_scale**2 / fan_in): the mean-field sigma_w."""
    return keras.initializers.RandomNormal(stddev=weight_scale / math.sqrt(fan_in), seed=seed)


def deep_mlp(
    depth,
    width,
    activation="tanh",
    weight_scale=None,
    batch_norm=False,
    kernel_regularizer=None,
    input_dim=64,
    num_classes=10,
    seed=0,
    kernel_initializer=None,
):
    """A plain deep MLP classifier returning logits.

    ``depth`` hidden blocks ``Dense -> [BatchNormalization ->] Activation`` and a Dense
    output layer named ``output``. Layers are named ``dense_i``, ``batchnorm_i`` and
    ``<activation>_i`` so printed names never depend on what ran before.

    ``weight_scale=s`` draws every kernel from N(0, s**2 / fan_in) (``s`` is sigma_w of
    mean-field theory); ``kernel_initializer="he_normal"`` (any Keras initialiser name)
    uses that initialiser instead, as ``Dense(kernel_initializer=...)`` does; with neither,
    Keras' default Glorot-uniform. Biases start at zero. Layer ``i`` is seeded with ``course_seed(seed) + i``, so the same
    call always builds the same network under one ``COURSE_SEED`` (see ``course_utils.seeding``).
    """
    depth = require_positive_int("depth", depth)
    width = require_positive_int("width", width)
    input_dim = require_positive_int("input_dim", input_dim)
    num_classes = require_positive_int("num_classes", num_classes)
    require_choice("activation", activation, ACTIVATIONS)
    if weight_scale is not None:
        weight_scale = require_positive_number("weight_scale", weight_scale)
    if weight_scale is not None and kernel_initializer is not None:
        raise ValueError("give weight_scale or kernel_initializer, not both")
    seed = course_seed(seed)
    named = kernel_initializer or "glorot_uniform"

    def initializer(fan_in, layer_seed):
        if weight_scale is None:
            return keras.initializers.get({"class_name": named, "config": {"seed": layer_seed}})
        return scaled_normal(weight_scale, fan_in, layer_seed)

    layers = [keras.Input(shape=(input_dim,), name="pixels")]
    fan_in = input_dim
    for i in range(depth):
        layers.append(
            keras.layers.Dense(
                width,
                kernel_initializer=initializer(fan_in, seed + i),
                kernel_regularizer=kernel_regularizer,
                name=f"dense_{i}",
            )
        )
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"batchnorm_{i}"))
        layers.append(keras.layers.Activation(activation, name=f"{activation}_{i}"))
        fan_in = width
    layers.append(
        keras.layers.Dense(
            num_classes,
            kernel_initializer=initializer(fan_in, seed + depth),
            kernel_regularizer=kernel_regularizer,
            name="output",
        )
    )
    return keras.Sequential(layers, name=f"mlp_{activation}_depth{depth}")


def simple_rnn(
    units,
    timesteps,
    recurrent_scale,
    input_dim=2,
    kernel_regularizer=None,
    recurrent_regularizer=None,
    seed=0,
):
    """A ``SimpleRNN(tanh)`` reading ``(timesteps, input_dim)`` sequences, with a linear readout.

    The recurrent matrix starts as a random orthogonal matrix times ``recurrent_scale``,
    so its spectral radius *and* every singular value equal ``recurrent_scale``: above 1
    the linearised dynamics expand every direction, below 1 they contract every direction.
    ``seed`` is relative to ``COURSE_SEED`` (see ``course_utils.seeding``).
    """
    units = require_positive_int("units", units)
    timesteps = require_positive_int("timesteps", timesteps, minimum=2)
    input_dim = require_positive_int("input_dim", input_dim)
    recurrent_scale = require_positive_number("recurrent_scale", recurrent_scale)
    seed = course_seed(seed)
    return keras.Sequential(
        [
            keras.Input(shape=(timesteps, input_dim), name="sequence"),
            keras.layers.SimpleRNN(
                units,
                activation="tanh",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                recurrent_initializer=keras.initializers.Orthogonal(gain=recurrent_scale, seed=seed + 1),
                kernel_regularizer=kernel_regularizer,
                recurrent_regularizer=recurrent_regularizer,
                name="rnn",
            ),
            keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 2), name="readout"),
        ],
        name=f"rnn_scale{recurrent_scale:g}",
    )
