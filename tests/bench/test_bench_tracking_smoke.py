"""bench/tracking for a few seconds at a tiny load: it prints its figures, loses no event.

No timings are asserted (benchmarks are read, not tested). The bench runs in
its own process against its own database on the PostgreSQL server of this
session, with a real gunicorn: it needs PostgreSQL and Redis, like the worker
tests, and skips without them unless RELAY_REQUIRE_SERVICES=true.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def services() -> dict[str, str]:
    db = connection.settings_dict
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith(
        "redis://"
    ):
        if settings.RELAY_REQUIRE_SERVICES:
            pytest.fail("RELAY_REQUIRE_SERVICES=true, yet no PostgreSQL and Redis")
        pytest.skip("bench/tracking needs PostgreSQL and Redis")
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    server = (
        f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
    )
    return {
        "RELAY_BENCH_DATABASE_URL": server,
        "RELAY_BENCH_TRACKING_DATABASE": f"{db['NAME']}_tracking_smoke",
        "RELAY_BENCH_REDIS_URL": settings.CELERY_BROKER_URL,
    }


def test_the_tracking_bench_prints_its_figures_and_loses_no_event(services) -> None:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.tracking",
            *("--seconds", "2", "--rounds", "1", "--readers", "40"),
            *("--workers", "1", "--connections", "2", "--processes", "1"),
        ],
        cwd=ROOT,
        env={**environ, **services},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(
            r"(plain WSGI \(ceiling\)|bare Django view|open pixel|click redirect)"
            r"\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)\s+(\S+)\s+(\S+)\s+(\S+)",
            line,
        )
        if match:
            rows[match.group(1)] = [g.replace(",", "") for g in match.groups()[1:]]
    assert set(rows) == {
        "plain WSGI (ceiling)",
        "bare Django view",
        "open pixel",
        "click redirect",
    }, result.stdout
    for name in ("open pixel", "click redirect"):
        made, answered, failed, _rate, ratio, events, lost = rows[name]
        assert int(made) > 0
        assert int(failed) == 0
        assert int(answered) == int(made) == int(events)
        assert int(lost) == 0
        assert float(ratio) > 0
