import random
import subprocess
import sys

import matplotlib as mpl
import numpy as np
import pytest

from course_utils import setup_notebook
from course_utils._quiet_tf import tf
from course_utils.notebook_setup import PLOT_STYLE


def draws():
    return random.random(), float(np.random.rand()), float(tf.random.uniform(()))


def test_same_seed_same_random_numbers_everywhere():
    setup_notebook(seed=3)
    first = draws()
    setup_notebook(seed=3)
    assert draws() == first
    setup_notebook(seed=4)
    assert draws() != first


def test_plot_style_is_applied():
    mpl.rcParams["axes.grid"] = False
    setup_notebook()
    assert all(mpl.rcParams[key] == value for key, value in PLOT_STYLE.items() if key != "figure.figsize")
    assert tuple(mpl.rcParams["figure.figsize"]) == PLOT_STYLE["figure.figsize"]


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        setup_notebook(seed=seed)


def test_importing_course_utils_mutes_tensorflow_start_up_but_not_later_stderr():
    code = "import course_utils, os; os.write(2, b'a genuine warning\\n')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stderr == "a genuine warning\n"


def test_a_plain_tensorflow_import_is_noisy_which_is_why_we_mute_it():
    # If this ever fails, TensorFlow went quiet by itself and _quiet_tf can go.
    code = "import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import tensorflow as tf; tf.constant(0.0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr.strip()
