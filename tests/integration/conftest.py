"""A real Celery worker for the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from celery.worker import WorkController

from cms.celery import app


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkController]:
    """Run a real Celery worker, in a thread, consuming the queues Relay uses."""
    app.control.purge()
    with start_worker(
        app,
        pool="solo",
        perform_ping_check=False,
        queues=["default", "sending", "tracking"],
        shutdown_timeout=30,
    ) as running:
        yield running
