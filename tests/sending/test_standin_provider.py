"""The stand-in provider answers anymail's real Mailgun and Postmark backends."""

import pytest
import requests
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailMessage
from django.core.mail import get_connection

from tests.standin import StandInProvider


@pytest.fixture
def standin(settings):
    with StandInProvider().running() as provider:
        settings.ANYMAIL = provider.anymail_settings()
        yield provider


def mailgun():
    return get_connection("anymail.backends.mailgun.EmailBackend")


def test_mailgun_single_message_is_recorded_with_its_metadata(standin) -> None:
    message = AnymailMessage(
        subject="Hello",
        body="Text",
        from_email="news@relay.test",
        to=["Ana <ana@example.org>"],
        connection=mailgun(),
    )
    message.attach_alternative("<p>Hello</p>", "text/html")
    message.metadata = {"delivery_id": "42"}

    message.send()

    [delivered] = standin.delivered
    assert delivered.recipient == "ana@example.org"
    assert (delivered.subject, delivered.text, delivered.html) == (
        "Hello",
        "Text",
        "<p>Hello</p>",
    )
    assert delivered.metadata == {"delivery_id": "42"}
    assert message.anymail_status.message_id == delivered.message_id


def test_mailgun_batch_is_one_call_expanded_per_reader(standin) -> None:
    readers = [f"reader{n}@example.org" for n in range(5)]
    message = AnymailMessage(
        subject="For %recipient.name%",
        body="Hi %recipient.name%",
        from_email="news@relay.test",
        to=readers,
        connection=mailgun(),
    )
    message.merge_data = {r: {"name": f"R{n}"} for n, r in enumerate(readers)}
    message.merge_headers = {
        r: {"List-Unsubscribe": f"<https://relay.test/u/{n}>"}
        for n, r in enumerate(readers)
    }
    message.merge_metadata = {r: {"delivery_id": str(n)} for n, r in enumerate(readers)}

    message.send()

    assert len(standin.calls) == 1
    by_reader = {d.recipient: d for d in standin.delivered}
    assert sorted(by_reader) == sorted(readers)
    assert by_reader["reader3@example.org"].subject == "For R3"
    assert (
        by_reader["reader3@example.org"].headers["List-Unsubscribe"]
        == "<https://relay.test/u/3>"
    )
    assert by_reader["reader3@example.org"].metadata["delivery_id"] == "3"


def test_postmark_single_message_is_recorded(standin) -> None:
    message = AnymailMessage(
        subject="Bună",
        body="Text",
        from_email="news@relay.test",
        to=["ion@example.org"],
        connection=get_connection("anymail.backends.postmark.EmailBackend"),
    )

    message.send()

    [delivered] = standin.delivered
    assert (delivered.provider, delivered.recipient, delivered.subject) == (
        "postmark",
        "ion@example.org",
        "Bună",
    )
    assert message.anymail_status.message_id == delivered.message_id


def test_failures_then_recovery_and_retry_after(standin) -> None:
    standin.fail(429, times=1, retry_after=7)
    message = AnymailMessage(
        subject="x",
        body="y",
        from_email="news@relay.test",
        to=["a@example.org"],
        connection=mailgun(),
    )

    with pytest.raises(AnymailAPIError) as raised:
        message.send()
    message.send()

    assert raised.value.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert [status for _path, status, _at in standin.calls] == [429, 200]
    assert standin.recipients() == ["a@example.org"]


def test_a_stalled_provider_times_out_the_client(standin, settings) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.3}
    standin.behaviour.stall = 1.0
    message = AnymailMessage(
        subject="x",
        body="y",
        from_email="news@relay.test",
        to=["a@example.org"],
        connection=mailgun(),
    )

    with pytest.raises(requests.Timeout):
        message.send()
