"""Real Celery workers in their own processes: killed mid-campaign, and rate-limited.

The workers run ``celery -A cms worker`` with the test settings, on the test
database and broker of this session, and send through anymail's real Mailgun
backend to the stand-in provider of this process. Other processes cannot
share SQLite's in-memory test database or the in-memory broker, so these tests
need PostgreSQL and Redis; CI has both (RELAY_REQUIRE_SERVICES=true), and there
they never skip.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import kombu.exceptions
import pytest
import redis
from django.conf import settings
from django.db import connection

from cms.celery import app
from newsletter.models import Campaign, Contact, Delivery, Subscription, address_hash
from newsletter.sending.campaigns import campaign_create, campaign_start
from newsletter.sending.recovery import deliveries_sweep
from newsletter.tasks import campaign_prepare_task, deliveries_sweep_task
from tests.factories import ContactFactory, MailingListFactory
from tests.standin import StandInProvider

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.worker,
]

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(autouse=True)
def shared_services() -> None:
    """Skip on SQLite or the in-memory broker, unless CI asked for the services."""
    shared = (
        connection.vendor == "postgresql"
        and settings.CELERY_BROKER_URL.startswith("redis://")
    )
    if shared:
        return
    if settings.RELAY_REQUIRE_SERVICES:
        pytest.fail("RELAY_REQUIRE_SERVICES=true, yet no PostgreSQL and Redis")
    pytest.skip(
        "worker processes need PostgreSQL and Redis (DATABASE_URL, CELERY_BROKER_URL)"
    )


def database_url() -> str:
    """Return the URL of the test database this session runs on."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def standin() -> Iterator[StandInProvider]:
    with StandInProvider().running() as provider:
        yield provider


@pytest.fixture
def start_worker(
    standin: StandInProvider, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Return a function that starts a worker process; stop them all at the end."""
    app.control.purge()
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra: str) -> subprocess.Popen[bytes]:
        name = f"w{len(started)}-{uuid.uuid4().hex[:6]}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cms.settings.test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "RELAY_VAR_DIR": str(tmp_path / "var"),
            "RELAY_TEST_EMAIL_PROVIDER": "mailgun",
            **{f"ANYMAIL_{k}": v for k, v in standin.anymail_settings().items()},
            **extra,
        }
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cms",
                "worker",
                "--pool",
                "solo",
                "--queues",
                "default,sending",
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    app.control.purge()


def audience(size: int) -> MailingListFactory:
    """Return a list with ``size`` subscribed readers in three languages, made fast."""
    mailing_list = MailingListFactory()
    tag = uuid.uuid4().hex[:8]
    contacts = []
    for n in range(size):
        contact = ContactFactory.build(
            email=f"reader{n}-{tag}@example.org",
            preferred_language=("de", "bg", "en")[n % 3],
        )
        contact.address_hash = address_hash(contact.email)
        contacts.append(contact)
    Contact.objects.bulk_create(contacts, batch_size=500)
    Subscription.objects.bulk_create(
        [
            Subscription(
                contact=contact,
                mailing_list=mailing_list,
                status=Subscription.Status.SUBSCRIBED,
            )
            for contact in Contact.objects.filter(email__endswith=f"-{tag}@example.org")
        ],
        batch_size=500,
    )
    return mailing_list


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    workers: list[subprocess.Popen[bytes]],
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        for worker in workers:
            if worker.poll() is not None:
                raise AssertionError(
                    f"a worker exited ({worker.returncode}); its log is in tmp_path"
                )
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_a_worker_killed_mid_campaign_sends_no_reader_twice_and_loses_none(
    issue, standin, start_worker
) -> None:
    readers = 2000
    mailing_list = audience(readers)
    campaign = campaign_create(page=issue, lists=[mailing_list])
    standin.behaviour.delay = 0.25  # each provider call takes a while
    first = start_worker()

    campaign_start(campaign=campaign)
    wait_for(
        lambda: len(standin.delivered) >= 500 and standin.in_flight > 0,
        timeout=90,
        what="the worker to be in the middle of the campaign",
        workers=[first],
    )
    os.killpg(first.pid, signal.SIGKILL)  # no warm shutdown, nothing acked
    first.wait(timeout=10)
    assert len(standin.delivered) < readers
    claimed = Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.SENDING
    ).count()
    assert claimed > 0  # the killed worker left its batch claimed

    start_worker()
    resolved = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # What beat runs every minute; a short claim timeout stands in for minutes.
        result = deliveries_sweep(claim_timeout=5)
        resolved += result.uncertain + result.requeued
        campaign.refresh_from_db()
        if campaign.status == Campaign.Status.SENT:
            break
        time.sleep(1)
    else:
        raise AssertionError(
            f"campaign still {campaign.status}: "
            f"{Counter(campaign.deliveries.values_list('status', flat=True))}"
        )

    time.sleep(0.5)  # let the stand-in finish recording the killed call
    received = Counter(standin.recipients())
    assert max(received.values()) == 1, "a reader got the campaign twice"
    statuses = dict(
        campaign.deliveries.values_list("contact__email", "status").iterator()
    )
    counts = Counter(statuses.values())
    assert set(counts) <= {"sent", "failed", "skipped", "uncertain"}
    assert sum(counts.values()) == readers
    assert resolved >= claimed
    assert counts["uncertain"] >= 1
    sent = {email for email, status in statuses.items() if status == "sent"}
    uncertain = {email for email, status in statuses.items() if status == "uncertain"}
    assert sent <= set(received)  # every "sent" reader really reached the provider
    assert set(received) <= sent | uncertain  # nobody else did


def test_two_workers_share_one_rate_of_fifty_per_second(
    issue, standin, start_worker
) -> None:
    readers = 400
    mailing_list = audience(readers)
    campaign = campaign_create(page=issue, lists=[mailing_list])
    shared = {
        "RELAY_SEND_RATE": "50",
        "RELAY_SEND_RATE_STORE": settings.CELERY_BROKER_URL,
        "RELAY_SEND_BATCH_SIZE": "20",
    }
    workers = [start_worker(**shared), start_worker(**shared)]

    campaign_start(campaign=campaign)
    wait_for(
        lambda: len(standin.delivered) >= readers,
        timeout=90,
        what="every reader to be sent",
        workers=workers,
    )

    stamps = sorted(mail.received_at for mail in standin.delivered)
    busiest = max(
        sum(1 for s in stamps[i:] if s < start + 1) for i, start in enumerate(stamps)
    )
    assert busiest <= 55, f"{busiest} messages in one second"
    assert stamps[-1] - stamps[0] >= (readers - 55) / 50 - 0.5
    assert Counter(standin.recipients()).most_common(1)[0][1] == 1


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """Run a private redis-server (never the shared one); yield its URL and a restart."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    server: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        server.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        client = redis.Redis.from_url(url)
        wait_for(lambda: _pings(client), timeout=10, what="redis", workers=[])

    def restart() -> None:
        server[-1].kill()  # no persistence: every queued message is gone
        server[-1].wait(timeout=10)
        start()

    start()
    yield url, restart
    for process in server:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_a_broker_restart_mid_campaign_loses_no_reader_and_sends_none_twice(
    issue, standin, start_worker, own_redis
) -> None:
    readers = 600
    mailing_list = audience(readers)
    campaign = campaign_create(page=issue, lists=[mailing_list])
    broker, restart_redis = own_redis
    standin.behaviour.delay = 0.2
    worker = start_worker(
        CELERY_BROKER_URL=broker,
        RELAY_SEND_BATCH_SIZE="50",
        RELAY_SEND_CLAIM_TIMEOUT="3",
    )

    with app.connection_for_write(broker) as producer:
        campaign_prepare_task.apply_async((campaign.pk,), connection=producer)
    wait_for(
        lambda: len(standin.delivered) >= 150,
        timeout=90,
        what="the campaign to be under way",
        workers=[worker],
    )
    restart_redis()  # the queued batches are lost with it
    assert len(standin.delivered) < readers

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        campaign.refresh_from_db()
        if campaign.status == Campaign.Status.SENT:
            break
        # What beat does every minute, sent to the worker through the new broker.
        with (
            contextlib.suppress(OSError, kombu.exceptions.OperationalError),
            app.connection_for_write(broker) as producer,
        ):
            deliveries_sweep_task.apply_async(connection=producer)
        time.sleep(2)
    else:
        raise AssertionError(
            f"campaign still {campaign.status}: "
            f"{Counter(campaign.deliveries.values_list('status', flat=True))}"
        )

    received = Counter(standin.recipients())
    assert max(received.values()) == 1, "a reader got the campaign twice"
    counts = Counter(campaign.deliveries.values_list("status", flat=True))
    assert set(counts) <= {"sent", "uncertain"}
    assert sum(counts.values()) == readers
    assert counts["sent"] == len(received) - counts["uncertain"]
