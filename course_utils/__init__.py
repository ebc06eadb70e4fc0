"""Utilities for the course *Taming Exploding Gradients*.

Importing the package imports TensorFlow quietly (see ``_quiet_tf``), so import
``course_utils`` before ``tensorflow`` in a notebook:

    >>> from course_utils import setup_notebook
    >>> setup_notebook()  # seeds everything from COURSE_SEED (default 0)
"""

from course_utils._quiet_tf import tf  # noqa: F401  (import first: it mutes TF's start-up logs)
from course_utils.notebook_setup import setup_notebook

__all__ = ["setup_notebook"]
