"""The course's two data sets, both offline.

* ``load_digits``: scikit-learn's 8x8 handwritten digits (1,797 images, shipped
  with the package, no download), flattened to 64 features in [0, 1].
* ``adding_problem``: Hochreiter & Schmidhuber's long-range task, as used by
  Pascanu, Mikolov & Bengio (2013), generated on the fly.

    >>> (x_train, y_train), (x_test, y_test) = load_digits()
    >>> x_train.shape, x_test.shape
    ((1347, 64), (450, 64))
    >>> x, y = adding_problem(n=4, timesteps=10)
    >>> x.shape, y.shape
    ((4, 10, 2), (4, 1))
"""

import numpy as np
import sklearn.datasets
from sklearn.model_selection import train_test_split

from course_utils._validate import require_positive_int
from course_utils.seeding import course_seed

DIGITS_MAX_PIXEL = 16.0  # the data set's pixels are integers 0..16


def load_digits(seed=0, test_fraction=0.25):
    """Digits as ``(x_train, y_train), (x_test, y_test)``.

    ``x`` is float32 of shape ``(n, 64)`` with values in [0, 1]; ``y`` is int64 in 0..9.
    The split is stratified by class and fixed by ``seed`` (relative to ``COURSE_SEED``).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction!r}")
    digits = sklearn.datasets.load_digits()
    x = (digits.data / DIGITS_MAX_PIXEL).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=course_seed(seed), stratify=y
    )
    return (x_train, y_train), (x_test, y_test)


def adding_problem(n, timesteps, seed=0):
    """``n`` sequences of the adding problem, as ``(x, y)``.

    ``x[i, t, 0]`` is a random value in [0, 1); ``x[i, t, 1]`` is a marker, 1 at exactly
    two time steps (one in the first half of the sequence, one in the second) and 0
    elsewhere. The target ``y[i, 0]`` is the sum of the two marked values, so the
    network must carry information across up to ``timesteps - 1`` steps. Always
    predicting 1.0 gives a mean squared error of 1/6 (the variance of the sum).
    ``seed`` is relative to ``COURSE_SEED`` (see ``course_utils.seeding``).
    """
    n = require_positive_int("n", n)
    timesteps = require_positive_int("timesteps", timesteps, minimum=2)
    rng = np.random.default_rng(course_seed(seed))
    values = rng.uniform(0.0, 1.0, size=(n, timesteps)).astype(np.float32)
    half = timesteps // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, timesteps, size=n)
    markers = np.zeros((n, timesteps), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
    return x, y
