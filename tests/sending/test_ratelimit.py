"""The Redis token bucket keeps every worker within one provider rate."""

import threading
import time
import uuid

import pytest
from django.conf import settings

from newsletter.sending.ratelimit import Limit, RedisBucket, acquire


def redis_url() -> str:
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://... (CI does)")
    return settings.CELERY_BROKER_URL


def test_the_bucket_keeps_a_margin_under_the_ceiling() -> None:
    assert Limit.per_second(50) == Limit(rate=45, burst=2)
    assert Limit.per_second(1000) == Limit(rate=900, burst=50)
    assert Limit.per_second(3).burst == 1


def test_two_workers_share_one_rate() -> None:
    url = redis_url()
    limit = Limit.per_second(50)
    name = f"test-{uuid.uuid4().hex}"
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        bucket = RedisBucket(url=url, name=name, limit=limit)  # one client per worker
        for _ in range(30):
            acquire(bucket, limit.burst)
            with lock:
                stamps.extend([time.monotonic()] * limit.burst)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stamps.sort()
    busiest = max(sum(1 for s in stamps if start <= s < start + 1) for start in stamps)
    assert len(stamps) == 60 * limit.burst
    assert busiest <= limit.rate + limit.burst
    assert stamps[-1] - stamps[0] >= (len(stamps) - limit.burst) / limit.rate - 0.2
