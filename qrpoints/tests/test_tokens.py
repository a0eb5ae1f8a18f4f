"""What a QR code holds: a URL with a signed token naming the object and its nonce, never the points."""

import pytest
from django.core import signing

from qrpoints.services import store_visit_code_current
from qrpoints.tests.factories import FlyerFactory, QrEventFactory, token_of
from qrpoints.tokens import QrCodeInvalid, QrKind, qr_resolve, qr_url

pytestmark = pytest.mark.django_db


def test_the_url_points_at_the_member_site_and_the_token_names_only_the_event_and_its_nonce(settings, programme):
    settings.MEMBER_SITE_BASE_URL = "https://points.example.jp"
    event = QrEventFactory(programme=programme, points=777)

    url = qr_url(event)

    assert url.startswith("https://points.example.jp/my/qr/e.") and url.endswith("/")
    token = token_of(event)
    payload = signing.Signer(salt="qrpoints.event").unsign_object(token.removeprefix("e."))
    assert payload == [event.pk, event.nonce]
    assert "777" not in token


def test_each_kind_resolves_to_its_object(programme, store):
    event = QrEventFactory(programme=programme)
    flyer = FlyerFactory(programme=programme, stores=[store])
    code = store_visit_code_current(store=store)

    assert qr_resolve(token_of(event)) == (QrKind.EVENT, event)
    assert qr_resolve(token_of(flyer)) == (QrKind.FLYER, flyer)
    assert qr_resolve(token_of(code)) == (QrKind.VISIT, store)


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature altered
        lambda token: "f" + token[1:],  # an event's token passed off as a flyer's
        lambda token: token.split(".", 1)[1],  # no kind
        lambda token: "e." + signing.Signer(salt="qrpoints.event", key="not-our-key").sign_object([1, "x"]),
        lambda token: "",
        lambda token: "e.garbage",
    ],
)
def test_a_forged_or_altered_token_is_refused(programme, forge):
    event = QrEventFactory(programme=programme)

    with pytest.raises(QrCodeInvalid):
        qr_resolve(forge(token_of(event)))


def test_a_token_with_a_stale_nonce_is_refused(programme):
    event = QrEventFactory(programme=programme)
    token = token_of(event)
    event.nonce = "renewed"
    event.save()

    with pytest.raises(QrCodeInvalid):
        qr_resolve(token)
