"""bench/send at a tiny size, in this process, on the test database: it runs.

No timings are asserted here (benchmarks are read, not tested); only that both
sides send every reader, and that the floor needs no database.
"""

from __future__ import annotations

import pytest

from bench import send

pytestmark = pytest.mark.django_db


def test_the_bench_measures_the_pipeline_beside_its_floor(
    settings, django_capture_on_commit_callbacks
) -> None:
    standin = send.bench_standin()
    with standin.running():
        settings.ANYMAIL = standin.anymail_settings()
        settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
        with django_capture_on_commit_callbacks(execute=True):
            issue = send.issue_create(body_bytes=3000)
        pipeline, floor = send.measure_size(
            size=50,
            issue_id=issue.pk,
            standin=standin,
            database="",
            batch_size=20,
            call_size=1000,
            fresh_processes=False,
        )

    assert pipeline.readers == floor.readers == 50 == standin.readers / 2
    # Five variants in three languages, each rendered once.
    assert sorted(pipeline.variants) == ["bg/BG", "de/AT", "de/DE", "en/IE", "en/MT"]
    assert pipeline.queries > 0
    assert floor.queries == 0
    assert floor.calls == 5
    assert pipeline.calls >= floor.calls
    report = send.table(send.rows_for(50, pipeline, floor))
    assert "SQL queries per reader" in report
    assert "API calls per reader" in report
