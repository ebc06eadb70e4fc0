"""One call at the top of every notebook: seeds, determinism, quiet logs, one plot style."""

import keras
import matplotlib as mpl

from course_utils._quiet_tf import tf

PLOT_STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def setup_notebook(seed=0):
    """Make a notebook reproducible and tidy.

    Seeds Python's, NumPy's and TensorFlow's random generators, makes TensorFlow
    ops deterministic, silences TensorFlow's Python-side logger below errors and
    applies the course's plot style.

        >>> setup_notebook(seed=0)
        >>> import numpy as np; float(np.random.rand()) == 0.5488135039273248
        True
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel("ERROR")
    mpl.rcParams.update(PLOT_STYLE)
