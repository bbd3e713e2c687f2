"""Benchmark: send a ~20 KB issue in three languages through the real pipeline.

For each audience size, the pipeline (``campaign_create`` → ``campaign_prepare``
→ ``delivery_send_batch`` for each batch of ``RELAY_SEND_BATCH_SIZE``) runs on
PostgreSQL in a fresh process, and sends through anymail's real Mailgun backend
to the stand-in provider (``tests.standin``) that runs in this process. The
floor runs in another fresh process: the same personalised batch messages
(``build_batch_message`` of the same rendered variants, for readers with
addresses and tokens of the same lengths), built before the clock starts and
sent through the same backend to the same stand-in, with no database at all.

Each metric is printed beside its floor and as a ratio to it. Timings are
reported, never asserted: see docs/performance.md.

    bench/send                    # 10,000 and 100,000 readers
    bench/send --quick            # 2,000 and 20,000
    bench/send --sizes 50000

``RELAY_BENCH_DATABASE`` names the database (``relay_bench``), which is
dropped and created again on each run; ``RELAY_BENCH_DATABASE_URL`` points at
the server (``postgres://postgres@127.0.0.1:5432/``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER_URL = os.environ.get(
    "RELAY_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"
)
DATABASE = os.environ.get("RELAY_BENCH_DATABASE", "relay_bench")

# Readers per (language, country): five variants of three languages.
AUDIENCE = (("en", "IE", 2), ("en", "MT", 1), ("de", "DE", 2), ("de", "AT", 1))
AUDIENCE += (("bg", "BG", 3),)
BODY_BYTES = 20_000
CHUNK = 5000

# Targets of issue 5, item 8 (reported, never asserted).
MAX_QUERIES_PER_READER = 0.02
MAX_CALLS_PER_READER = 0.01
MAX_COST_RATIO = 2.0
MAX_MEMORY_GROWTH = 1.25


# Django ------------------------------------------------------------------------


def django_environ(database: str) -> dict[str, str]:
    """Return the environment a bench process runs Django with."""
    return {
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATABASE_URL": SERVER_URL.rstrip("/") + "/" + database,
        "RELAY_TEST_EMAIL_PROVIDER": "mailgun",
        "RELAY_VAR_DIR": os.environ.get(
            "RELAY_VAR_DIR", str(Path(tempfile.gettempdir()) / "relay-bench-var")
        ),
    }


def django_setup(database: str, extra: dict[str, str] | None = None) -> None:
    os.environ.update({**django_environ(database), **(extra or {})})
    import django

    django.setup()


def database_recreate(database: str) -> None:
    """Drop ``database`` if it exists and create it empty."""
    import psycopg

    with psycopg.connect(
        SERVER_URL.rstrip("/") + "/postgres", autocommit=True
    ) as connection:
        name = psycopg.sql.Identifier(database)
        connection.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name)
        )
        connection.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(name))


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# Content and audience --------------------------------------------------------


def issue_texts(paragraphs: int) -> list[str]:
    """Return the paragraph texts of an issue of about ``BODY_BYTES``."""
    sentence = (
        "Members of parliament from {n} countries agreed on joint action against "
        "trafficking in human beings, and asked their governments to report back. "
    )
    return [(sentence.format(n=i + 2) * 3).strip() for i in range(paragraphs)]


def issue_create(*, body_bytes: int = BODY_BYTES) -> Any:
    """Publish an English issue of about ``body_bytes`` with de and bg translations."""
    from django.db import transaction
    from wagtail.rich_text import RichText

    from cms.models import HomePage, NewsletterIssuePage
    from cms.translation import page_translate

    paragraphs = issue_texts(max(1, body_bytes // 560))
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    strings = {
        "title": "Parliaments act on trafficking",
        "subject": "Parliaments act on trafficking: what the network agreed",
        "preheader": "What the network agreed in Bucharest",
        "heading": "Joint action agreed",
        "cta": "Read more",
    }
    body: list[tuple[str, Any]] = [("heading", strings["heading"])]
    for number, text in enumerate(paragraphs):
        body.append(("paragraph", RichText(f"<p>{text}</p>")))
        if number % 10 == 9:
            body.append(("heading", f"{strings['heading']} {number}"))
    body.append(
        ("call_to_action", {"text": strings["cta"], "url": "https://example.org/more"})
    )
    home = HomePage.objects.get(locale__language_code="en")
    issue = NewsletterIssuePage(
        title=strings["title"],
        slug=slug,
        subject=strings["subject"],
        preheader=strings["preheader"],
        body=body,
    )
    home.add_child(instance=issue)
    issue.save_revision().publish()
    sources = [*strings.values(), *paragraphs]
    sources += [f"{strings['heading']} {n}" for n in range(len(paragraphs))]
    for language in ("de", "bg"):
        texts = {text: f"[{language}] {text}" for text in sources}
        texts[slug] = f"{slug}-{language}"
        # wagtail-localize publishes the translation once its transaction commits.
        with transaction.atomic():
            page_translate(issue, language=language, texts=texts)
    return issue


def audience_create(*, size: int, tag: str) -> Any:
    """Create a mailing list of ``size`` subscribed contacts with bulk_create."""
    from newsletter.models import Contact, MailingList, Subscription, address_hash

    mailing_list = MailingList.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}")
    plan = [
        (lang, country) for lang, country, weight in AUDIENCE for _ in range(weight)
    ]
    for start in range(0, size, CHUNK):
        contacts = []
        for n in range(start, min(size, start + CHUNK)):
            language, country = plan[n % len(plan)]
            email = f"reader{n:07d}.{tag}@example.org"
            contacts.append(
                Contact(
                    email=email,
                    address_hash=address_hash(email),
                    first_name="Reader",
                    last_name=f"Number {n}",
                    kind=Contact.Kind.MP,
                    country=country,
                    preferred_language=language,
                    tracking_consent=n % 2 == 0,
                )
            )
        Contact.objects.bulk_create(contacts)
        Subscription.objects.bulk_create(
            Subscription(
                contact=contact,
                mailing_list=mailing_list,
                status=Subscription.Status.SUBSCRIBED,
            )
            for contact in contacts
        )
    from django.db import connection

    if connection.vendor == "postgresql":
        # As autovacuum would soon after a large import: plans on fresh
        # statistics, not on those of the empty tables.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return mailing_list


# Measuring -------------------------------------------------------------------


@dataclass
class Run:
    """What one side (pipeline or floor) cost."""

    readers: int = 0
    wall: float = 0.0  # seconds
    cpu: float = 0.0  # seconds of this process
    build: float = 0.0  # floor only: seconds building its messages, not in wall
    queries: int = 0
    calls: int = 0  # provider API calls, counted by the stand-in
    peak_rss_kb: int = 0
    variants: dict[str, dict[str, str]] = field(default_factory=dict)


@contextmanager
def counted_queries() -> Iterator[list[int]]:
    """Count the SQL statements run on the default connection."""
    from django.db import connection

    count = [0]

    def wrapper(execute: Callable[..., Any], *args: Any) -> Any:
        count[0] += 1
        return execute(*args)

    with connection.execute_wrapper(wrapper):
        yield count


def pipeline_run(*, issue_id: int, mailing_list_id: int, batch_size: int) -> Run:
    """Send the issue to the list through the real pipeline; return its cost.

    In one process, as a single worker would run the tasks one after another.
    """
    from wagtail.models import Page

    from newsletter.models import Delivery, MailingList
    from newsletter.sending.campaigns import campaign_create
    from newsletter.sending.dispatch import _VARIANTS, delivery_send_batch
    from newsletter.sending.prepare import campaign_prepare

    page = Page.objects.get(pk=issue_id).specific
    _VARIANTS.clear()  # as in a fresh worker; and no variants of an earlier campaign
    mailing_list = MailingList.objects.get(pk=mailing_list_id)
    wall, cpu = time.perf_counter(), time.process_time()
    with counted_queries() as queries:
        campaign = campaign_create(page=page, lists=[mailing_list])
        pending = campaign_prepare(campaign_id=campaign.pk)
        for start in range(0, len(pending), batch_size):
            delivery_send_batch(
                campaign_id=campaign.pk,
                delivery_ids=pending[start : start + batch_size],
            )
    run = Run(
        wall=time.perf_counter() - wall,
        cpu=time.process_time() - cpu,
        queries=queries[0],
    )
    run.readers = Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.SENT
    ).count()
    run.variants = {
        f"{key[4]}/{key[5]}": asdict(variant)
        for key, variant in _VARIANTS.items()
        if key[0] == campaign.pk
    }
    return run


def floor_messages(
    *, variants: dict[str, dict[str, str]], call_size: int, sizes: dict[str, int]
) -> list[Any]:
    """Build the personalised batch messages of the floor, without a database."""
    from newsletter.models import Campaign, Contact, Delivery, MailingList
    from newsletter.models.tokens import new_token
    from newsletter.sending.dispatch import BATCH_PROVIDERS, build_batch_message
    from newsletter.sending.render import RenderedVariant

    merge_field = BATCH_PROVIDERS["mailgun"].merge_field
    assert merge_field is not None  # noqa: S101 - Mailgun is a batch provider
    campaign = Campaign(pk=1)
    # The campaign's list as if prefetched, so that headers read no database.
    floor_lists = MailingList.objects.all()
    floor_lists._result_cache = [MailingList(pk=1, name="Bench", slug="bench-floor")]
    campaign._prefetched_objects_cache = {"lists": floor_lists}
    messages = []
    n = 0
    for name, variant in variants.items():
        rendered = RenderedVariant(**variant)
        readers = sizes.get(name, 0)
        for start in range(0, readers, call_size):
            unit = []
            for _ in range(min(call_size, readers - start)):
                email = f"reader{n:07d}.floor0000@example.org"
                contact = Contact(
                    pk=n + 1,
                    email=email,
                    first_name="Reader",
                    last_name=f"Number {n}",
                    tracking_consent=n % 2 == 0,
                    preferences_token=new_token(),
                )
                unit.append(
                    Delivery(
                        pk=n + 1, campaign=campaign, contact=contact, token=new_token()
                    )
                )
                n += 1
            messages.append(
                build_batch_message(
                    rendered, unit, campaign=campaign, merge_field=merge_field
                )
            )
    return messages


def floor_run(
    *, variants: dict[str, dict[str, str]], call_size: int, sizes: dict[str, int]
) -> Run:
    """Send pre-built messages through the same anymail backend; return the cost."""
    from django.core.mail import get_connection

    build = time.perf_counter()
    messages = floor_messages(variants=variants, call_size=call_size, sizes=sizes)
    build = time.perf_counter() - build
    wall, cpu = time.perf_counter(), time.process_time()
    with counted_queries() as queries, get_connection() as connection:
        for message in messages:
            message.connection = connection
            message.send()
    return Run(
        readers=sum(len(m.to) for m in messages),
        wall=time.perf_counter() - wall,
        cpu=time.process_time() - cpu,
        queries=queries[0],
        build=build,
    )


# The stand-in provider -------------------------------------------------------


def bench_standin() -> Any:
    """Return a stand-in Mailgun that counts readers instead of keeping their copies.

    Keeping 100,000 copies of a 20 KB mail would make the stand-in, not the
    sender, the thing measured.
    """
    from tests.standin import StandInProvider, _form

    class CountingStandIn(StandInProvider):
        readers: int = 0

        def _mailgun(self, headers: Any, body: bytes) -> dict[str, str]:
            form = _form(headers, body)
            variables = json.loads(form.get("recipient-variables", ["{}"])[0])
            to = form.get("to", [])
            with self._lock:
                self.readers += sum(
                    1
                    for address in to
                    if address.rsplit("<", 1)[-1].rstrip(">").strip() in variables
                )
            return {"id": f"<{uuid.uuid4().hex}@mg.relay.test>", "message": "Queued."}

    return CountingStandIn()


# One size, in fresh processes ------------------------------------------------


def child() -> None:
    """Run one side in this (fresh) process, as read on stdin; print its Run as JSON."""
    options = json.loads(sys.stdin.read())
    django_setup(options["database"], options["environ"])
    # As a Relay worker does once started (cms.celery); for both sides alike.
    from cms.celery import startup_objects_freeze

    startup_objects_freeze()
    if options["side"] == "pipeline":
        run = pipeline_run(
            issue_id=options["issue_id"],
            mailing_list_id=options["mailing_list_id"],
            batch_size=options["batch_size"],
        )
    else:
        run = floor_run(
            variants=options["variants"],
            call_size=options["call_size"],
            sizes=options["sizes"],
        )
    run.peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(asdict(run)))


def in_fresh_process(options: dict[str, Any]) -> Run:
    result = subprocess.run(  # this interpreter, this module
        [sys.executable, "-m", "bench.send", "--child"],
        cwd=ROOT,
        input=json.dumps(options),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"bench: the {options['side']} process failed")
    return Run(**json.loads(result.stdout.strip().splitlines()[-1]))


def measure_size(
    *,
    size: int,
    issue_id: int,
    standin: Any,
    database: str,
    batch_size: int,
    call_size: int,
    fresh_processes: bool = True,
) -> tuple[Run, Run]:
    """Return the pipeline's and the floor's Run for an audience of ``size``."""
    mailing_list = audience_create(size=size, tag=f"{size}-{uuid.uuid4().hex[:6]}")
    environ = {f"ANYMAIL_{k}": v for k, v in standin.anymail_settings().items()}

    def side(options: dict[str, Any]) -> Run:
        calls, readers = len(standin.calls), standin.readers
        if fresh_processes:
            run = in_fresh_process(
                {**options, "database": database, "environ": environ}
            )
        elif options["side"] == "pipeline":
            run = pipeline_run(
                issue_id=issue_id,
                mailing_list_id=mailing_list.pk,
                batch_size=batch_size,
            )
        else:
            run = floor_run(
                variants=options["variants"],
                call_size=call_size,
                sizes=options["sizes"],
            )
        run.calls = len(standin.calls) - calls
        if standin.readers - readers != run.readers:
            raise SystemExit(
                f"bench: {options['side']} reported {run.readers} readers, "
                f"the stand-in received {standin.readers - readers}"
            )
        return run

    pipeline = side(
        {
            "side": "pipeline",
            "issue_id": issue_id,
            "mailing_list_id": mailing_list.pk,
            "batch_size": batch_size,
        }
    )
    sizes = variant_sizes(size)
    floor = side(
        {
            "side": "floor",
            "variants": pipeline.variants,
            "call_size": call_size,
            "sizes": sizes,
        }
    )
    return pipeline, floor


def variant_sizes(size: int) -> dict[str, int]:
    """Return how many of ``size`` readers audience_create puts in each variant."""
    plan = [f"{lang}/{country}" for lang, country, w in AUDIENCE for _ in range(w)]
    sizes: dict[str, int] = {}
    for n in range(size):
        sizes[plan[n % len(plan)]] = sizes.get(plan[n % len(plan)], 0) + 1
    return sizes


# Report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    size: int
    metric: str
    pipeline: float
    floor: float | None
    target: str
    ok: bool | None


def rows_for(size: int, pipeline: Run, floor: Run) -> list[Row]:
    per = max(pipeline.readers, 1)
    floor_per = max(floor.readers, 1)
    cost, floor_cost = pipeline.wall / per * 1e6, floor.wall / floor_per * 1e6
    return [
        Row(size, "readers sent", pipeline.readers, floor.readers, "= size", None),
        Row(
            size,
            "cost per reader, wall (µs)",
            cost,
            floor_cost,
            f"≤ {MAX_COST_RATIO:g}× floor",
            cost <= MAX_COST_RATIO * floor_cost,
        ),
        Row(
            size,
            "… floor incl. building (µs)",
            cost,
            (floor.wall + floor.build) / floor_per * 1e6,
            "",
            None,
        ),
        Row(
            size,
            "CPU per reader (µs)",
            pipeline.cpu / per * 1e6,
            floor.cpu / floor_per * 1e6,
            "",
            None,
        ),
        Row(
            size,
            "SQL queries per reader",
            pipeline.queries / per,
            floor.queries / floor_per,
            f"≤ {MAX_QUERIES_PER_READER:g}",
            pipeline.queries / per <= MAX_QUERIES_PER_READER,
        ),
        Row(
            size,
            "API calls per reader",
            pipeline.calls / per,
            floor.calls / floor_per,
            f"≤ {MAX_CALLS_PER_READER:g}",
            pipeline.calls / per <= MAX_CALLS_PER_READER,
        ),
        Row(
            size,
            "peak worker memory (MiB)",
            pipeline.peak_rss_kb / 1024,
            floor.peak_rss_kb / 1024,
            "",
            None,
        ),
    ]


def memory_row(results: dict[int, tuple[Run, Run]]) -> Row | None:
    if len(results) < 2:
        return None
    small, large = min(results), max(results)
    growth = results[large][0].peak_rss_kb / max(results[small][0].peak_rss_kb, 1)
    floor_growth = results[large][1].peak_rss_kb / max(results[small][1].peak_rss_kb, 1)
    return Row(
        large,
        f"peak memory {large:,} / {small:,}",
        growth,
        floor_growth,
        f"≤ {MAX_MEMORY_GROWTH:g}",
        growth <= MAX_MEMORY_GROWTH,
    )


def table(rows: list[Row]) -> str:
    def number(value: float | None) -> str:
        if value is None:
            return "-"
        if value == int(value) and abs(value) >= 1:
            return f"{int(value):,}"
        return f"{value:.4g}"

    lines = [
        f"{'size':>8}  {'metric':<28} {'pipeline':>10} {'floor':>10} "
        f"{'ratio':>7}  {'target':<14} result"
    ]
    for row in rows:
        ratio = (
            f"{row.pipeline / row.floor:.2f}"
            if row.floor and "memory " not in row.metric
            else "-"
        )
        result = "-" if row.ok is None else ("pass" if row.ok else "FAIL")
        lines.append(
            f"{row.size:>8,}  {row.metric:<28} {number(row.pipeline):>10} "
            f"{number(row.floor):>10} {ratio:>7}  {row.target:<14} {result}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child()
        return
    parser = argparse.ArgumentParser(prog="bench/send", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--quick", action="store_true", help="2,000 and 20,000")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="readers per delivery_send_batch (default: RELAY_SEND_BATCH_SIZE)",
    )
    options = parser.parse_args(argv)
    sizes = (
        [2000, 20000] if options.quick else [int(s) for s in options.sizes.split(",")]
    )

    started = time.perf_counter()
    database_recreate(DATABASE)
    django_setup(DATABASE)
    from django.conf import settings

    from newsletter.sending.dispatch import BATCH_PROVIDERS

    migrate()
    batch_size = options.batch_size or settings.RELAY_SEND_BATCH_SIZE
    call_size = BATCH_PROVIDERS["mailgun"].per_call
    issue = issue_create()
    print(
        f"bench/send: database {DATABASE}, {os.cpu_count()} CPUs, batch of "
        f"{batch_size}, floor calls of {call_size} (Mailgun's limit), issue "
        f"{issue.pk} in en, de, bg",
        flush=True,
    )
    results: dict[int, tuple[Run, Run]] = {}
    rows: list[Row] = []
    standin = bench_standin()
    with standin.running():
        for size in sizes:
            step = time.perf_counter()
            results[size] = measure_size(
                size=size,
                issue_id=issue.pk,
                standin=standin,
                database=DATABASE,
                batch_size=batch_size,
                call_size=call_size,
            )
            rows += rows_for(size, *results[size])
            print(f"  {size:,} readers: {time.perf_counter() - step:.0f} s", flush=True)
    html = max(len(v["html"]) for v in results[sizes[0]][0].variants.values())
    print(f"rendered HTML per variant: up to {html:,} bytes")
    extra = memory_row(results)
    print(table([*rows, *([extra] if extra else [])]))
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
