"""The two failing baselines. Every lesson breaks, measures and repairs *these*, with these seeds.

* The deep MLP: 30 tanh layers of width 64 on the digits, weights drawn at sigma_w = 4
  (chi_1 = 2.38: the gradient norm grows about 1.54x per layer toward the input, 1.54**29 =
  2.8e5 over the 29 steps from the last hidden layer to the first), trained with plain SGD.
* The RNN: a SimpleRNN(32, tanh) on the adding problem with T = 20 steps, its recurrent
  matrix at spectral radius 1.5, trained with plain SGD: it reaches NaN in the first epoch in
  most runs (lesson 02 counts them over seeds).

    >>> model = mlp_baseline()
    >>> len([layer for layer in model.layers if layer.name.startswith("dense_")])
    30
"""

import keras

from course_utils.data import adding_problem
from course_utils.models import deep_mlp, simple_rnn

MLP = dict(depth=30, width=64, activation="tanh", weight_scale=4.0)
MLP_TRAINING = dict(learning_rate=0.1, epochs=5, batch_size=64)

RNN = dict(units=32, timesteps=20, recurrent_scale=1.5)
RNN_TRAINING = dict(learning_rate=0.1, epochs=8, batch_size=64)
RNN_SAMPLES = dict(train=8000, test=1000)
TRIVIAL_ADDING_MSE = 1.0 / 6.0  # always predicting 1.0, the mean of the target


def mlp_baseline(**overrides):
    """``deep_mlp(**MLP)``, with any argument overridden (e.g. ``batch_norm=True``)."""
    return deep_mlp(**{**MLP, **overrides})


def rnn_baseline(**overrides):
    """``simple_rnn(**RNN)``, with any argument overridden (e.g. ``recurrent_scale=0.9``)."""
    return simple_rnn(**{**RNN, **overrides})


def adding_data(timesteps=RNN["timesteps"]):
    """The adding problem's fixed train and test sets: ``(x_train, y_train), (x_test, y_test)``."""
    train = adding_problem(RNN_SAMPLES["train"], timesteps, seed=0)
    test = adding_problem(RNN_SAMPLES["test"], timesteps, seed=1)
    return train, test


def mse_loss():
    """The RNN's loss (the MLP's default is sparse categorical cross-entropy on logits)."""
    return keras.losses.MeanSquaredError()
