"""Browser tests: a real headless Chromium driven by Playwright."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Until "browser" is listed under [tool.pytest.ini_options] markers.
    config.addinivalue_line(
        "markers", "browser: drives a real headless Chromium through Playwright"
    )
