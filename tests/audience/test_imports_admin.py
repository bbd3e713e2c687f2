"""The contact import and export screens of the Wagtail admin."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from newsletter.models import ConsentRecord, Contact, Subscription
from tests.factories import ContactFactory, MailingListFactory

UPLOAD_URL = "newsletter_contact_import"


def upload(content: str, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def admin_client(db: None, django_user_model) -> Client:
    user = django_user_model.objects.create_superuser(
        username="admin", email="admin@example.org", password="x"
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor_client(db: None, django_user_model) -> Client:
    """A Wagtail admin user without any contact permission."""
    user = django_user_model.objects.create_user(
        username="editor", email="editor@example.org", password="x"
    )
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    client = Client()
    client.force_login(user)
    return client


def test_import_page_is_in_the_admin_menu_with_its_form(admin_client: Client) -> None:
    response = admin_client.get(reverse(UPLOAD_URL))

    html = response.content.decode()
    assert 'name="file"' in html
    assert "Import and export contacts" in html
    assert reverse("newsletter_contact_export", args=["xlsx"]) in html
    assert "Import and export contacts" in admin_client.get("/admin/").content.decode()


def test_upload_preview_confirm_imports_the_valid_rows_and_subscribes_them(
    admin_client: Client,
) -> None:
    mailing_list = MailingListFactory(name="Network news")
    ContactFactory(email="bogdan@example.org", first_name="Old")
    content = (
        "Email,First name,preferred_language\n"
        "anna@example.org,Anna,de\n"
        "BOGDAN@example.org,Bogdan,ro\n"
        "not-an-address,Nobody,en\n"
        "carla@example.org,=1+1,pt\n"
        "dora@example.org,Dora,xx\n"
    )

    page = admin_client.post(
        reverse(UPLOAD_URL),
        {
            "file": upload(content),
            "mailing_list": mailing_list.pk,
            "wording": "Signed up at the Sofia meeting.",
        },
    )

    assert page.status_code == 200
    assert page.templates[0].name == "newsletter/admin/imports/preview.html"
    preview = page.context["preview"]
    assert [(row.number, row.action) for row in preview.rows] == [
        (2, "create"),
        (3, "update"),
        (4, "error"),
        (5, "error"),
        (6, "error"),
    ]
    html = page.content.decode()
    assert "“not-an-address” is not a valid email address." in html
    assert "spreadsheet formulas are not accepted" in html
    assert "Unknown language codes: xx" in html
    assert Contact.objects.count() == 1

    confirmed = admin_client.post(
        reverse("newsletter_contact_import_confirm", args=[preview.token]),
        follow=True,
    )

    assert confirmed.redirect_chain == [(reverse(UPLOAD_URL), 302)]
    assert "1 contact created." in confirmed.content.decode()
    assert sorted(Contact.objects.values_list("email", "first_name")) == [
        ("anna@example.org", "Anna"),
        ("bogdan@example.org", "Bogdan"),
    ]
    assert Subscription.objects.filter(mailing_list=mailing_list).count() == 2
    assert set(ConsentRecord.objects.values_list("source", "wording").distinct()) == {
        ("import", "Signed up at the Sofia meeting.")
    }


def test_confirm_with_a_token_from_another_session_imports_nothing(
    admin_client: Client, django_user_model
) -> None:
    page = admin_client.post(
        reverse(UPLOAD_URL), {"file": upload("email\nanna@example.org\n")}
    )
    token = page.context["preview"].token
    other = Client()
    other.force_login(
        django_user_model.objects.create_superuser(
            username="other", email="other@example.org", password="x"
        )
    )

    response = other.post(
        reverse("newsletter_contact_import_confirm", args=[token]), follow=True
    )

    assert "This import has expired." in response.content.decode()
    assert not Contact.objects.exists()
    # The session that uploaded it can still confirm.
    admin_client.post(reverse("newsletter_contact_import_confirm", args=[token]))
    assert Contact.objects.get().email == "anna@example.org"


def test_cancel_discards_the_upload(admin_client: Client) -> None:
    page = admin_client.post(
        reverse(UPLOAD_URL), {"file": upload("email\nanna@example.org\n")}
    )
    url = reverse(
        "newsletter_contact_import_confirm", args=[page.context["preview"].token]
    )

    admin_client.post(url, {"cancel": "1"})
    response = admin_client.post(url, follow=True)

    assert "This import has expired." in response.content.decode()
    assert not Contact.objects.exists()


def test_unreadable_file_is_reported_on_the_form(admin_client: Client) -> None:
    response = admin_client.post(
        reverse(UPLOAD_URL),
        {"file": upload("name,organisation\nAnna,NGO\n")},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The first row must name the columns, and one of them must be “email”."
    ]


def test_mailing_list_needs_a_consent_statement(admin_client: Client) -> None:
    response = admin_client.post(
        reverse(UPLOAD_URL),
        {
            "file": upload("email\nanna@example.org\n"),
            "mailing_list": MailingListFactory().pk,
        },
    )

    assert "wording" in response.context["form"].errors


def test_export_downloads_a_neutralised_csv(admin_client: Client) -> None:
    ContactFactory(email="anna@example.org", first_name="=1+1")

    response = admin_client.get(reverse("newsletter_contact_export", args=["csv"]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:2] == ["anna@example.org", "'=1+1"]


@pytest.mark.parametrize(
    ("method", "url_name", "args"),
    [
        ("get", UPLOAD_URL, []),
        ("post", UPLOAD_URL, []),
        ("post", "newsletter_contact_import_confirm", ["x" * 43]),
        ("get", "newsletter_contact_export", ["csv"]),
    ],
)
def test_user_without_contact_permissions_is_forbidden(
    editor_client: Client, method: str, url_name: str, args: list[str]
) -> None:
    response = getattr(editor_client, method)(reverse(url_name, args=args))

    assert response.status_code == 403


def test_viewer_can_export_but_not_import(
    editor_client: Client, django_user_model
) -> None:
    user = django_user_model.objects.get(username="editor")
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="newsletter", codename="view_contact"
        )
    )

    page = editor_client.get(reverse(UPLOAD_URL))
    posted = editor_client.post(
        reverse(UPLOAD_URL), {"file": upload("email\nanna@example.org\n")}
    )

    assert page.status_code == 200
    assert page.context["can_export"] and not page.context["can_import"]
    assert posted.status_code == 403
    assert not Contact.objects.exists()
