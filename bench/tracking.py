"""Benchmark: the open pixel and the click redirect under gunicorn on PostgreSQL.

A fresh database gets a real campaign: an issue sent through the real pipeline
(bench/send's) to the stand-in provider, so every delivery has its token and
the campaign its link map. Its ``sent_at`` is then set a day back, as for mail
read the day after it went out (clicks within seconds of delivery are a
scanner's, and classified as such).

gunicorn serves Relay with its production settings and one more URL, a bare
view that answers the same GIF with the same decorators and does nothing else
(``bench/tracking_urls.py``, never in Relay's own URLconf). A load generator
(processes of threads, one ``http.client`` connection per request, as gunicorn's
sync workers close each one) requests, in turns of equal length in the same
run: the bare view, the open pixel of consenting readers and the click
redirect of their links. It prints requests per second of each endpoint as a
ratio to the bare view, and the events recorded against the requests made.
Before that, the same generator loads a plain WSGI app under the same gunicorn
settings: its rate is the generator's ceiling, far above Django's.

    bench/tracking                          # 30 s per endpoint, in 3 turns each
    bench/tracking --seconds 6 --readers 2000

Production settings buffer the hits in Redis (``RELAY_TRACKING_BUFFER``, the
cache's Redis by default): a Celery worker with its beat, started beside
gunicorn as production runs them, writes them to the database every second
during the load. Events are counted only once the buffer is drained: after
the warm-up and after the last turn the bench runs ``manage.py tracking_drain``,
which waits for a drain in progress and writes what is left, so "lost"
compares the requests made with the events in the database.

``RELAY_BENCH_TRACKING_DATABASE`` names the database (``relay_bench_tracking``),
dropped and created again on each run, on the server of ``RELAY_BENCH_DATABASE_URL``;
``RELAY_BENCH_REDIS_URL`` is the Redis the production settings want
(``redis://127.0.0.1:6379/0``): the cache, the broker of the worker, and the
tracking buffer (the list ``relay:bench:<database>:hits``, emptied at start).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import itertools
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("RELAY_BENCH_TRACKING_DATABASE", "relay_bench_tracking")
REDIS_URL = os.environ.get("RELAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# A person's browser: the bench measures recording, not machine classification.
AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
# The same bytes as newsletter.views.PIXEL_GIF (checked in data_create).
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
MIN_RATIO = 0.8  # issue 6: at least 0.8 of the bare view's rate


def plain_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app without Django: the load generator's ceiling."""
    start_response(
        "200 OK", [("Content-Type", "image/gif"), ("Content-Length", str(len(GIF)))]
    )
    return [GIF]


# The campaign -------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    campaign_id: int
    tokens: list[str]  # tracking ids of the mails of readers who consent to tracking
    link_ids: list[int]


def data_create(*, database: str, readers: int) -> Targets:
    """Send a campaign to ``readers`` in a fresh ``database``; return what to load."""
    from bench import send

    send.database_recreate(database)
    send.django_setup(database)
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from newsletter.models import Campaign, Delivery, Link
    from newsletter.views import PIXEL_GIF

    assert PIXEL_GIF == GIF  # noqa: S101 - the bare views answer the pixel's bytes
    send.migrate()
    issue = send.issue_create(body_bytes=5000)
    mailing_list = send.audience_create(size=readers, tag="tracking")
    standin = send.bench_standin()
    with standin.running():
        settings.ANYMAIL = standin.anymail_settings()
        run = send.pipeline_run(
            issue_id=issue.pk,
            mailing_list_id=mailing_list.pk,
            batch_size=settings.RELAY_SEND_BATCH_SIZE,
        )
    campaign = Campaign.objects.order_by("-pk").first()
    assert campaign is not None and run.readers == readers  # noqa: S101
    sent = Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT)
    sent.update(sent_at=timezone.now() - timedelta(days=1))
    tokens = tracking_ids(sent.filter(contact__tracking_consent=True), database)
    link_ids = list(
        Link.objects.filter(campaign=campaign)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Targets(campaign_id=campaign.pk, tokens=tokens, link_ids=link_ids)


def data_reuse(*, database: str) -> Targets:
    """Return what to load from the campaign an earlier run left in ``database``."""
    from bench import send

    send.django_setup(database)
    from newsletter.models import Campaign, Delivery, Link, TrackingEvent

    campaign = Campaign.objects.order_by("-pk").first()
    if campaign is None:
        raise SystemExit(f"bench: no campaign in {database} to reuse")
    TrackingEvent.objects.filter(delivery__campaign=campaign).delete()
    tokens = Delivery.objects.filter(
        campaign=campaign,
        status=Delivery.Status.SENT,
        contact__tracking_consent=True,
    )
    return Targets(
        campaign_id=campaign.pk,
        tokens=tracking_ids(tokens, database),
        link_ids=list(
            Link.objects.filter(campaign=campaign)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
    )


def secret_key(database: str) -> str:
    """Return the server's SECRET_KEY: the bench's own, the same for every run on ``database``."""
    return f"relay-bench-tracking-{database}-not-secret-".ljust(64, "x")


def tracking_ids(deliveries: Any, database: str) -> list[str]:
    """Return the tracking ids in the mails of ``deliveries``, as the server verifies them."""
    from django.test import override_settings

    from newsletter.sending.dispatch import reader_tracking_id

    with override_settings(SECRET_KEY=secret_key(database)):
        return [
            reader_tracking_id(delivery)
            for delivery in deliveries.select_related("contact").order_by("pk")
        ]


def events_recorded(campaign_id: int) -> dict[str, int]:
    """Return the campaign's open and click events (pixel and redirect) by kind."""
    from django.db.models import Count

    from newsletter.models import TrackingEvent

    return dict(
        TrackingEvent.objects.filter(delivery__campaign_id=campaign_id)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )


# The server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environ(*, database: str, port: int) -> dict[str, str]:
    """Return the environment of a production server on the bench database."""
    from bench import send

    var = os.environ.get("RELAY_VAR_DIR", "/tmp/relay-bench-var")  # noqa: S108
    Path(var, "static").mkdir(parents=True, exist_ok=True)  # whitenoise wants it
    return {
        "DJANGO_SETTINGS_MODULE": "bench.tracking_settings",
        "DATABASE_URL": send.SERVER_URL.rstrip("/") + "/" + database,
        # The bench computes the tracking ids in the mails with it.
        "DJANGO_SECRET_KEY": secret_key(database),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_URL": REDIS_URL,
        "RELAY_BASE_URL": f"http://127.0.0.1:{port}",
        "DEFAULT_FROM_EMAIL": "Relay <newsletter@relay.localhost>",
        "RELAY_EMAIL_PROVIDER": "mailgun",
        "RELAY_VAR_DIR": var,
        # The buffer is production's default (the cache's Redis); only its
        # list is the bench's own.
        "RELAY_TRACKING_BUFFER_KEY": buffer_key(database),
    }


def buffer_key(database: str) -> str:
    """Return the Redis list the server buffers its tracking hits in."""
    return f"relay:bench:{database}:hits"


def buffer_clear(database: str) -> None:
    """Empty the bench's tracking buffer: hits of an earlier, stopped run."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(buffer_key(database), f"{buffer_key(database)}:drain")
    client.close()


@contextlib.contextmanager
def celery_worker(*, environ: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """Run a Celery worker with its beat on the tracking queue until the block ends.

    As production runs them: the beat queues ``newsletter.tracking_hits_drain``
    every second and the worker writes the buffered hits to the database.
    """
    var = Path(environ["RELAY_VAR_DIR"])
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "--quiet",
            "-A",
            "cms",
            "worker",
            "--beat",
            "--schedule",
            str(var / "bench-tracking-beat"),
            "--queues",
            "tracking",
            "--concurrency",
            "1",
            "--loglevel",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **environ},
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)  # warm shutdown: the drain finishes
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def buffer_drain(*, environ: dict[str, str]) -> None:
    """Write every buffered hit to the database, waiting for a drain in progress."""
    subprocess.run(
        [sys.executable, "manage.py", "tracking_drain", "--skip-checks"],
        cwd=ROOT,
        env={**os.environ, **environ},
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def gunicorn(
    *, app: str, port: int, workers: int, environ: dict[str, str], probe: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run gunicorn with ``workers`` sync workers until the block ends."""
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **environ},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"bench: gunicorn {app} stopped at start")
            with contextlib.suppress(OSError):
                if request(port, probe)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: gunicorn {app} did not answer in 60 s")
            time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)  # graceful: requests in flight finish
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The load generator -------------------------------------------------------------


def request(port: int, path: str) -> tuple[int, bytes]:
    """GET ``path`` on a new connection, as a reader's mail program would."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "GET",
            path,
            headers={
                "User-Agent": AGENT,
                # As behind the TLS-terminating proxy production runs behind.
                "X-Forwarded-Proto": "https",
            },
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Load:
    """What one endpoint was asked and answered."""

    made: int = 0
    answered: int = 0  # with the expected status
    failed: int = 0  # another status, or no answer at all
    seconds: float = 0.0

    def add(self, other: Load) -> None:
        self.made += other.made
        self.answered += other.answered
        self.failed += other.failed
        self.seconds += other.seconds

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def _generator(
    port: int,
    paths: list[str],
    expect: int,
    threads: int,
    seconds: float,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    """One generator process: ``threads`` threads, each on its share of ``paths``."""
    counts = [[0, 0, 0] for _ in range(threads)]
    ends = [0.0] * threads
    began = threading.Event()
    begin: list[float] = []

    def worker(n: int) -> None:
        cycle = itertools.cycle(paths[n::threads] or paths)
        began.wait()
        deadline = begin[0] + seconds
        mine = counts[n]
        while time.time() < deadline:
            mine[0] += 1
            try:
                status, _body = request(port, next(cycle))
            except OSError:
                mine[2] += 1
                continue
            if status == expect:
                mine[1] += 1
            else:
                mine[2] += 1
        ends[n] = time.time()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    ready.put(True)
    start.wait()
    begin.append(start_time(start))
    began.set()
    for thread in pool:
        thread.join()
    results.put(
        (
            sum(c[0] for c in counts),
            sum(c[1] for c in counts),
            sum(c[2] for c in counts),
            max(ends) - begin[0],
        )
    )


def start_time(start: Any) -> float:
    return float(start.time.value)


class _Start:
    """An event that also carries the wall-clock time every process starts at."""

    def __init__(self, context: Any) -> None:
        self.event = context.Event()
        self.time = context.Value("d", 0.0)

    def wait(self) -> None:
        self.event.wait()

    def set(self, at: float) -> None:
        self.time.value = at
        self.event.set()


def load(
    *,
    port: int,
    paths: list[str],
    expect: int,
    seconds: float,
    connections: int,
    processes: int,
) -> Load:
    """Request ``paths`` (in turn) for ``seconds`` on ``connections`` at once."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    start = _Start(context)
    shares = [paths[p::processes] or paths for p in range(processes)]
    threads = max(1, connections // processes)
    workers = [
        context.Process(
            target=_generator,
            args=(port, share, expect, threads, seconds, ready, start, results),
        )
        for share in shares
    ]
    for process in workers:
        process.start()
    for _ in workers:
        ready.get(timeout=120)
    start.set(time.time())
    total = Load()
    for _ in workers:
        made, answered, failed, elapsed = results.get(timeout=seconds + 120)
        total.made += made
        total.answered += answered
        total.failed += failed
        total.seconds = max(total.seconds, elapsed)
    for process in workers:
        process.join()
    return total


# The run ------------------------------------------------------------------------


@dataclass
class Report:
    ceiling: Load
    loads: dict[str, Load] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        bare = self.loads["bare"].rate
        lines = [
            f"{'endpoint':<22} {'requests':>9} {'answered':>9} {'failed':>7} "
            f"{'req/s':>8} {'ratio':>6}  {'events':>7} {'lost':>5}  "
            f"{'target':<10} result"
        ]

        def line(name: str, run: Load, ratio: str, events: str, lost: str, ok: str):
            lines.append(
                f"{name:<22} {run.made:>9,} {run.answered:>9,} {run.failed:>7,} "
                f"{run.rate:>8.1f} {ratio:>6}  {events:>7} {lost:>5}  {ok}"
            )

        line("plain WSGI (ceiling)", self.ceiling, "-", "-", "-", "")
        line("bare Django view", self.loads["bare"], "1.00", "-", "-", "")
        for name, key, kind in (
            ("open pixel", "pixel", "opened"),
            ("click redirect", "click", "clicked"),
        ):
            run = self.loads[key]
            ratio = run.rate / bare if bare else 0.0
            events = self.events.get(kind, 0)
            lost = run.made - events
            verdict = "pass" if ratio >= MIN_RATIO and lost == 0 else "FAIL"
            line(
                name,
                run,
                f"{ratio:.2f}",
                f"{events:,}",
                f"{lost:,}",
                f"{'≥ 0.8, 0 lost':<10} {verdict}",
            )
        return lines


def run_bench(
    *,
    database: str,
    readers: int,
    seconds: float,
    rounds: int,
    workers: int,
    connections: int,
    processes: int,
    reuse: bool = False,
) -> Report:
    targets = (
        data_reuse(database=database)
        if reuse
        else data_create(database=database, readers=readers)
    )
    if not targets.tokens or not targets.link_ids:
        raise SystemExit("bench: the campaign has no tracked reader or no link")
    shuffle = random.Random(0)
    clicks = [
        f"/t/c/{token}/{link}/" for token in targets.tokens for link in targets.link_ids
    ]
    shuffle.shuffle(clicks)
    paths = {
        "bare": [f"/t/bare/{token}.gif" for token in targets.tokens],
        "pixel": [f"/t/o/{token}.gif" for token in targets.tokens],
        "click": clicks,
    }
    expect = {"bare": 200, "pixel": 200, "click": 302}
    turn = seconds / rounds
    options = {"connections": connections, "processes": processes}

    port = free_port()
    with gunicorn(
        app="bench.tracking:plain_app",
        port=port,
        workers=workers,
        environ={},
        probe="/",
    ):
        ceiling = load(
            port=port, paths=["/"], expect=200, seconds=min(turn, 5), **options
        )

    from django.db import connection

    buffer_clear(database)
    before = events_recorded(targets.campaign_id)
    connection.close()  # idle while the server runs
    port = free_port()
    environ = server_environ(database=database, port=port)
    report = Report(ceiling=ceiling)
    with (
        celery_worker(environ=environ),
        gunicorn(
            app="cms.wsgi:application",
            port=port,
            workers=workers,
            environ=environ,
            probe=paths["bare"][0],
        ),
    ):
        for key in paths:  # one untimed request each: every worker imports lazily
            request(port, paths[key][-1])
        # A web worker sends its hits to Redis within 0.2 s (HitBuffer.push_soon).
        time.sleep(1)
        buffer_drain(environ=environ)
        warm = events_recorded(targets.campaign_id)
        connection.close()
        done = dict.fromkeys(paths, 0)
        for _ in range(rounds):
            for key in ("bare", "pixel", "click"):
                # Each turn goes on where the last one stopped.
                at = done[key] % len(paths[key])
                run = load(
                    port=port,
                    paths=paths[key][at:] + paths[key][:at],
                    expect=expect[key],
                    seconds=turn,
                    **options,
                )
                report.loads.setdefault(key, Load()).add(run)
                done[key] += run.made
    # Every request was answered and gunicorn stopped gracefully (its workers
    # send the hits they held when they end): what is still buffered is
    # written before the events are counted.
    buffer_drain(environ=environ)
    after = events_recorded(targets.campaign_id)
    # Events of the run alone: not those of the warm-up requests.
    report.events = {
        kind: after.get(kind, 0) - warm.get(kind, 0) for kind in ("opened", "clicked")
    }
    assert sum(before.values()) == 0  # noqa: S101 - a fresh campaign
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench/tracking", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30, help="per endpoint")
    parser.add_argument("--rounds", type=int, default=3, help="turns per endpoint")
    parser.add_argument("--readers", type=int, default=20000)
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (default 2 × CPUs + 1)",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="load the campaign an earlier run left (its events are deleted first)",
    )
    options = parser.parse_args(sys.argv[1:] if argv is None else argv)

    started = time.perf_counter()
    print(
        f"bench/tracking: database {DATABASE}, {os.cpu_count()} CPUs, gunicorn "
        f"{options.workers} sync workers, {options.connections} connections from "
        f"{options.processes} processes, {options.seconds:g} s per endpoint in "
        f"{options.rounds} turns",
        flush=True,
    )
    report = run_bench(
        database=DATABASE,
        readers=options.readers,
        seconds=options.seconds,
        rounds=options.rounds,
        workers=options.workers,
        connections=options.connections,
        processes=options.processes,
        reuse=options.reuse,
    )
    print("\n".join(report.lines()))
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
