"""Pytest configuration shared by the unit tests."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: runs the lessons in JupyterLab in a real Chromium (skipped when Chromium or Playwright is "
        "missing); deselect with -m 'not browser'",
    )
