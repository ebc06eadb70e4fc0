import math
from pathlib import Path

import numpy as np
import pytest
from nbval.plugin import get_sanitize_patterns

from course_utils.approx import APPROX_PATTERN, approx, is_approx, median_and_range, significant
from course_utils.theory import chi1

SANITIZE_FILE = Path(__file__).parent / "nbval_sanitize.cfg"


@pytest.mark.parametrize(
    "value, printed",
    [
        (0.0736, "≈0.074"),
        (2.06, "≈2.1"),
        (148.0, "≈150"),
        (3.35e5, "≈3.4e5"),
        (1.2e-9, "≈1.2e-9"),
        (9.96, "≈10"),
        (0.999, "≈1.0"),
        (-0.5, "≈-0.50"),
        (0.0, "≈0"),
        (1e4, "≈1.0e4"),
        (np.float32(0.25), "≈0.25"),
        (30, "≈30"),
        (np.int64(5), "≈5"),
    ],
)
def test_two_significant_figures_plain_or_as_a_mantissa(value, printed):
    assert approx(value) == printed
    assert is_approx(printed)


def test_percent_and_non_finite_values():
    assert approx(0.536, percent=True) == "≈54%"
    assert approx(1, percent=True) == "≈100%"
    assert approx(math.nan) == "nan" and approx(math.inf) == "inf"
    assert not is_approx(approx(math.nan))


@pytest.mark.parametrize("bad", ["0.5", None, True, [1.0]])
def test_non_numbers_are_rejected_clearly(bad):
    with pytest.raises(ValueError, match="approx needs a real number"):
        approx(bad)


def test_the_nbval_sanitizer_masks_exactly_the_approx_form():
    text = SANITIZE_FILE.read_text(encoding="ascii")  # ASCII: nbval reads it in the locale's encoding
    assert get_sanitize_patterns(text) == [(APPROX_PATTERN, "(approx)")]
    assert not is_approx("3.4e5") and not is_approx("~1e6") and not is_approx("≈")


def test_median_and_range_prints_a_few_runs_in_the_approximate_form():
    assert median_and_range([0.1315, 0.0738, 0.1528]) == "≈0.13 (range ≈0.074 to ≈0.15)"
    assert median_and_range([34, 33, 60]) == "≈34 (range ≈33 to ≈60)"
    assert median_and_range([0.512, 0.551, 0.411], percent=True) == "≈51% (range ≈41% to ≈55%)"
    assert median_and_range([2.0]) == "≈2.0 (range ≈2.0 to ≈2.0)"
    assert median_and_range([0.1, float("nan")]) == "nan (range nan to nan)"
    with pytest.raises(ValueError, match="non-empty"):
        median_and_range([])


def test_significant_is_approx_without_its_sign_so_nbval_compares_it_strictly():
    for value in (1.5417**29, 0.0023117, 88.85, 2.38, 30, 1.2e-9, -0.04):
        assert approx(value) == "\u2248" + significant(value)
        assert not is_approx(significant(value))
    assert significant(math.sqrt(chi1(4.0)) ** 29) == "2.8e5"  # the growth lessons 00 and 01 quote
    assert significant(float("nan")) == "nan"
    with pytest.raises(ValueError, match="real number"):
        significant("big")
