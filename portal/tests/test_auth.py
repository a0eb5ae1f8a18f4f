"""Who gets into the portal: merchant users through the portal's own login, throttled by axes;
forgotten passwords reset by e-mail; everyone else is sent to the login or finds nothing."""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from portal.forms import PortalAuthenticationForm
from portal.tests.conftest import PASSWORD, make_merchant_user

pytestmark = pytest.mark.django_db

LOGIN = "/portal/login/"
PAGES = ["/portal/", "/portal/statements/"]


def as_shown(message) -> str:
    with translation.override(django_settings.LANGUAGE_CODE):
        return escape(str(message))


def log_in(client, username="hikari", password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_a_merchant_user_logs_in_and_lands_on_the_dashboard(client, merchant_user, store):
    # When
    response = log_in(client)

    # Then
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    page = client.get("/portal/")
    assert page.status_code == 200
    assert store.name in page.content.decode()


def test_login_follows_next_back_to_the_page_asked_for(client, merchant_user):
    # When
    response = log_in(client, next="/portal/statements/")

    # Then
    assert response["Location"] == "/portal/statements/"


def test_a_wrong_password_is_refused(client, merchant_user):
    # When
    response = log_in(client, password="wrong-password")

    # Then
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "login-errors" in response.content.decode()


def test_logging_out_ends_the_session(portal_client):
    # When
    response = portal_client.post("/portal/logout/")

    # Then
    assert response["Location"] == "/portal/login/"
    assert portal_client.get("/portal/")["Location"].startswith("/portal/login/")


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_portal_login(client, db, path):
    # When
    response = client.get(path)

    # Then
    assert response.status_code == 302
    assert response["Location"] == f"/portal/login/?next={path}"


def test_staff_without_a_merchant_are_refused_at_login_with_a_reason(client, db):
    # Given
    get_user_model().objects.create_user(username="jimukyoku", password=PASSWORD, is_staff=True)

    # When
    response = log_in(client, username="jimukyoku")

    # Then
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert as_shown(PortalAuthenticationForm.error_messages["not_merchant"]) in response.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_staff_logged_in_to_the_back_office_find_no_portal(client, db, path):
    # Given
    staff = get_user_model().objects.create_user(username="jimukyoku", is_staff=True, is_superuser=True)
    client.force_login(staff)

    # When / then
    assert client.get(path).status_code == 404


def test_login_is_locked_after_too_many_failures(client, merchant_user, settings):
    # Given
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, password="wrong-password")

    # When
    response = log_in(client)

    # Then the right password is refused too
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    assert client.get("/portal/").status_code == 302


def test_lockout_page_is_japanese_with_the_password_reset(client, merchant_user, settings):
    # Given
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, password="wrong-password")

    # When
    response = log_in(client)

    # Then the portal's page says when to try again and how to reset the password
    assert response.status_code == 429
    page = response.content.decode()
    assert "ログインを一時停止しています" in page
    assert f"{round(settings.AXES_COOLOFF_TIME * 60)}分後" in page
    assert reverse("portal:password_reset") in page
    assert "加盟店ポータル" in page


def test_login_is_not_locked_just_before_the_limit(client, merchant_user, settings):
    # Given
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, password="wrong-password")

    # When
    response = log_in(client)

    # Then
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 200


# --- password reset -----------------------------------------------------------------------


def reset_link(message) -> str:
    (url,) = re.findall(r"https?://\S+/portal/password-reset/\S+/\S+/", message.body)
    return url


def test_a_forgotten_password_is_reset_through_the_link_in_the_email(client, merchant_user, settings):
    # Given
    settings.PORTAL_BASE_URL = "https://portal.example.jp"

    # When the merchant asks for a reset
    response = client.post("/portal/password-reset/", {"email": "owner@hikari.example.jp"})

    # Then an e-mail with a link to the configured portal address goes to the user
    assert response["Location"] == reverse("portal:password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["owner@hikari.example.jp"]
    url = reset_link(message)
    assert url.startswith("https://portal.example.jp/portal/password-reset/")

    # When they follow it and choose a new password
    form = client.get(url.removeprefix("https://portal.example.jp"), follow=True)
    assert "set-password-form" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-new-Passw0rd-42", "new_password2": "a-new-Passw0rd-42"}
    )

    # Then the new password logs in and the old one does not
    assert done["Location"] == reverse("portal:password_reset_complete")
    assert log_in(client, password=PASSWORD).status_code == 200
    assert log_in(client, password="a-new-Passw0rd-42")["Location"] == "/portal/"


def test_a_reset_link_works_only_once(client, merchant_user):
    # Given a password already reset through the link
    client.post("/portal/password-reset/", {"email": "owner@hikari.example.jp"})
    path = re.sub(r"^https?://[^/]+", "", reset_link(mail.outbox[0]))
    form = client.get(path, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-new-Passw0rd-42", "new_password2": "a-new-Passw0rd-42"}
    )

    # When the link is opened again
    again = client.get(path, follow=True)

    # Then
    assert "invalid-link" in again.content.decode()


def test_no_reset_email_goes_to_staff_or_to_unknown_addresses(client, merchant):
    # Given a staff member with an e-mail address, and no user behind another address
    get_user_model().objects.create_user(
        username="jimukyoku", password=PASSWORD, email="jimu@example.jp", is_staff=True
    )

    # When both ask for a reset
    responses = [
        client.post("/portal/password-reset/", {"email": email}) for email in ("jimu@example.jp", "x@example.jp")
    ]

    # Then both see the same answer and nothing is sent
    assert [r["Location"] for r in responses] == [reverse("portal:password_reset_done")] * 2
    assert mail.outbox == []


def test_a_staff_reset_token_is_not_accepted_by_the_portal(client, db):
    # Given a valid reset token of a staff user (as the admin's reset would make one)
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    staff = get_user_model().objects.create_user(username="jimukyoku", password=PASSWORD, is_staff=True)
    uid, token = urlsafe_base64_encode(force_bytes(staff.pk)), default_token_generator.make_token(staff)

    # When it is opened in the portal
    response = client.get(f"/portal/password-reset/{uid}/{token}/", follow=True)

    # Then the link is refused
    assert "invalid-link" in response.content.decode()


def test_another_merchant_user_logs_in_to_their_own_merchant_only(client, merchant_user, store, other_store):
    # Given
    make_merchant_user(other_store.merchant, username="sakura")

    # When
    log_in(client, username="sakura")
    page = client.get("/portal/").content.decode()

    # Then
    assert other_store.name in page
    assert store.name not in page
