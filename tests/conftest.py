"""Pytest configuration and fixtures shared by the unit tests."""

import pytest

from course_utils.seeding import set_course_seed


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: runs the lessons in JupyterLab in a real Chromium (skipped when Chromium or Playwright is "
        "missing); deselect with -m 'not browser'",
    )


@pytest.fixture
def course_seed_reset():
    """``set_course_seed`` for a test that measures under another COURSE_SEED; the seed goes back to 0 after it."""
    yield set_course_seed
    set_course_seed(0)
