"""One call at the top of every notebook: seeds, determinism, quiet logs, one plot style."""

import keras
import matplotlib as mpl
from cycler import cycler

from course_utils._quiet_tf import tf
from course_utils.seeding import SEED_VARIABLE, course_seed, require_seed, seed_from_environment, set_course_seed

# Okabe & Ito's colour-blind-safe palette (its yellow left out: too pale on white), each colour with its own
# line style, so lines stay apart in greyscale and for every kind of colour vision.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
LINE_STYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3))]

PLOT_STYLE = {
    "axes.prop_cycle": cycler(color=OKABE_ITO) + cycler(linestyle=LINE_STYLES),
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def setup_notebook(seed=None):
    """Make a notebook reproducible and tidy.

    Sets the course seed (``seed``, or else the ``COURSE_SEED`` environment variable,
    default 0) that every seed of ``course_utils`` is shifted by, seeds Python's, NumPy's
    and TensorFlow's random generators from it, makes TensorFlow ops deterministic,
    silences TensorFlow's Python-side logger below errors and applies the course's plot
    style (a colour-blind-safe palette with a line style per colour). A course seed other than 0 is announced, so a rerolled run says so.

        >>> setup_notebook(seed=0)
        >>> import numpy as np; float(np.random.rand()) == 0.5488135039273248
        True
    """
    seed = seed_from_environment() if seed is None else require_seed(seed)
    set_course_seed(seed)
    if seed != 0:
        print(f"{SEED_VARIABLE} = {seed}: every seed of the course is shifted, so this is a different run")
    keras.utils.set_random_seed(course_seed(0))
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel("ERROR")
    mpl.rcParams.update(PLOT_STYLE)
