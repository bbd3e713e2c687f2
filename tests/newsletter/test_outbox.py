import pytest
from anymail.message import AnymailMessage
from django.contrib.auth import get_user_model

from newsletter.sending.outbox import outbox_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "newsletter.sending.outbox.EmailBackend"
    settings.RELAY_OUTBOX_DIR = tmp_path
    return tmp_path


def send(subject: str, to: str = "Ana Silva <ana@example.org>") -> AnymailMessage:
    message = AnymailMessage(
        subject=subject,
        body="Olá",
        from_email="news@example.org",
        to=[to],
        headers={"Content-Language": "pt"},
    )
    message.attach_alternative(
        '<html lang="pt"><body><p>Olá <b>Ana</b></p></body></html>', "text/html"
    )
    message.metadata = {"delivery_id": "7"}
    message.send()
    return message


def test_the_outbox_backend_writes_each_message_as_an_eml_file(outbox) -> None:
    message = send("Relatório de Bucareste")

    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    assert message.anymail_status.status == {"queued"}
    assert message.anymail_status.message_id in files[0].name
    mails = outbox_list()
    assert [(m.subject, m.language, m.to) for m in mails] == [
        ("Relatório de Bucareste", "pt", "Ana Silva <ana@example.org>")
    ]
    assert "<b>Ana</b>" in mails[0].html
    assert mails[0].text.strip() == "Olá"


def test_the_outbox_viewer_needs_an_admin_login(client, outbox) -> None:
    send("Private")

    response = client.get("/outbox/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_outbox_viewer_lists_and_shows_mails(client, outbox) -> None:
    send("Relatório de Bucareste")
    client.force_login(
        get_user_model().objects.create_superuser("admin", "a@example.org", "pw")
    )

    listing = client.get("/outbox/")
    name = next(outbox.glob("*.eml")).name
    detail = client.get(f"/outbox/{name}")

    assert "Relatório de Bucareste" in listing.text
    assert f'href="/outbox/{name}"' in listing.text
    assert detail.status_code == 200
    assert (
        "Olá &lt;b&gt;Ana&lt;/b&gt;" in detail.text
    )  # the HTML part, escaped into a sandboxed srcdoc
    assert 'sandbox=""' in detail.text


@pytest.mark.parametrize(
    "name", ["../secret.eml", "nothing.eml", "x.txt", "%2e%2e%2fsettings.eml"]
)
def test_the_outbox_viewer_serves_only_outbox_mails(client, outbox, name) -> None:
    client.force_login(
        get_user_model().objects.create_superuser("admin", "a@example.org", "pw")
    )
    (outbox.parent / "secret.eml").write_text("Subject: secret\n\nsecret")

    assert client.get(f"/outbox/{name}").status_code == 404
