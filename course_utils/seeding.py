"""One seed knob for the whole course: the ``COURSE_SEED`` environment variable.

Every random choice the course makes (initial weights, shuffles, generated data, the
digits' train/test split) takes a *relative* seed, such as ``seed=0`` for the baseline
or ``seed=s`` in a loop over several runs, and turns it into the seed it really uses
with ``course_seed``. ``COURSE_SEED=k`` shifts all of them at once, so a lesson run with
``COURSE_SEED=3`` is a genuinely different run of the same experiment:

    >>> set_course_seed(0)
    >>> course_seed(0), course_seed(7)
    (0, 7)
    >>> set_course_seed(3)
    >>> course_seed(0), course_seed(7)
    (3000, 3007)
    >>> set_course_seed(0)
"""

import os

SEED_VARIABLE = "COURSE_SEED"
# Relative seeds are small (a network of depth L uses seed .. seed + L, lesson 07 uses 0, 100, 200),
# so shifting by 1000 per course seed keeps the runs of different course seeds apart.
SEED_STRIDE = 1000

_course_seed = None  # set by set_course_seed (setup_notebook); until then read from the environment


def require_seed(seed, name="seed"):
    """``seed`` if it is a non-negative int, else a clear ``ValueError``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{name} must be a non-negative int, got {seed!r}")
    return seed


def seed_from_environment():
    """The value of ``COURSE_SEED`` (0 when unset), checked to be a non-negative integer."""
    text = os.environ.get(SEED_VARIABLE, "0").strip() or "0"
    if not text.isdigit():
        raise ValueError(f"the environment variable {SEED_VARIABLE} must be a non-negative integer, got {text!r}")
    return int(text)


def set_course_seed(seed):
    """Make ``seed`` the course seed that every later ``course_seed`` call shifts by."""
    global _course_seed
    _course_seed = require_seed(seed)


def current_course_seed():
    """The course seed in force: the last ``set_course_seed``, else ``COURSE_SEED``, else 0."""
    return _course_seed if _course_seed is not None else seed_from_environment()


def course_seed(relative_seed=0):
    """The seed to use for ``relative_seed`` under the current course seed (see the module docstring)."""
    return current_course_seed() * SEED_STRIDE + require_seed(relative_seed)
