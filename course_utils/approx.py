"""One printed form for every value that may differ between machines or seeds: ``≈`` and 2 significant figures.

A training run of the course's baselines is chaotic, and even a gradient measured at
initialisation moves in its last digits when TensorFlow takes another numeric path
(``TF_ENABLE_ONEDNN_OPTS=0``, another CPU). Cells print such values with ``approx``,
and the committed nbval sanitizer (``tests/nbval_sanitize.cfg``, see ``APPROX_PATTERN``)
masks exactly this form, so ``pytest --nbval`` compares everything else strictly. The
``assert`` next to each printed value guards the claim it supports.

    >>> approx(0.0736), approx(2.06), approx(148.0), approx(3.35e5), approx(1.2e-9)
    ('≈0.074', '≈2.1', '≈150', '≈3.4e5', '≈1.2e-9')
    >>> approx(0.536, percent=True), approx(30), approx(float("nan"))
    ('≈54%', '≈30', 'nan')
"""

import math
import numbers
import re

import numpy as np

SIGN = "≈"
SIGNIFICANT_DIGITS = 2
# Plain decimals between these bounds (0.0012, 4500), powers of ten outside them (3.4e5, 1.2e-9).
PLAIN_RANGE = (1e-3, 1e4)
# What the nbval sanitizer masks; tests/nbval_sanitize.cfg holds the same pattern (a unit test keeps them equal).
# The sign is written as the escape \u2248 so the file stays ASCII (nbval reads it in the locale's encoding).
APPROX_PATTERN = r"\u2248-?\d+(?:\.\d+)?(?:e-?\d+)?%?"


def approx(value, percent=False):
    """``value`` to 2 significant figures after ``≈``; ``percent=True`` prints ``100 * value`` with ``%``.

    Integers print whole (``≈30``: a step or a count). NaN and infinities print as
    ``nan`` / ``inf`` without the sign: a run that diverged has no approximate value,
    and the comparison of that word stays strict.
    """
    text = significant(value, percent)
    return text if not math.isfinite(float(value)) else SIGN + text


def significant(value, percent=False):
    """An *exact*, deterministic value (a theory prediction) in ``approx``'s layout, without the sign.

    A value that is the same on every machine and seed (e.g. sqrt(chi_1)**29 from numerical
    integration) prints without ``≈``, so ``pytest --nbval`` keeps comparing it strictly.

        >>> significant(1.5417**29), significant(0.0023), significant(88.9), significant(30)
        ('2.8e5', '0.0023', '89', '30')
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"approx needs a real number, got {value!r}")
    if isinstance(value, numbers.Integral) and not percent:
        return str(int(value))
    value = float(value) * (100.0 if percent else 1.0)
    suffix = "%" if percent else ""
    if not math.isfinite(value):
        return f"{value}{suffix}"
    rounded = float(f"{value:.{SIGNIFICANT_DIGITS - 1}e}")  # round to 2 significant figures first: 9.96 -> 10
    if rounded == 0.0:
        return f"0{suffix}"
    exponent = math.floor(math.log10(abs(rounded)))
    if PLAIN_RANGE[0] <= abs(rounded) < PLAIN_RANGE[1]:
        decimals = max(0, SIGNIFICANT_DIGITS - 1 - exponent)
        return f"{rounded:.{decimals}f}{suffix}"
    mantissa = rounded / 10.0**exponent
    return f"{mantissa:.{SIGNIFICANT_DIGITS - 1}f}e{exponent}{suffix}"


def median_and_range(values, percent=False):
    """The median and the range of a few runs' results, each in ``approx``'s form.

        >>> median_and_range([0.074, 0.15, 0.13])
        '≈0.13 (range ≈0.074 to ≈0.15)'
        >>> median_and_range([0.51, 0.55, 0.41], percent=True)
        '≈51% (range ≈41% to ≈55%)'

    A NaN among ``values`` (a run that diverged) makes the median and the range ``nan``:
    count diverged runs separately.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"median_and_range needs a non-empty list of numbers, got {values.shape} values")
    if np.any(np.isnan(values)):
        nan = approx(float("nan"))
        return f"{nan} (range {nan} to {nan})"
    low, median, high = (float(v) for v in (values.min(), np.median(values), values.max()))
    return f"{approx(median, percent)} (range {approx(low, percent)} to {approx(high, percent)})"


def is_approx(text):
    """Whether ``text`` is exactly one value in ``approx``'s form (what the sanitizer masks).

    >>> is_approx("≈3.4e5"), is_approx("3.4e5")
    (True, False)
    """
    return re.fullmatch(APPROX_PATTERN, text) is not None
