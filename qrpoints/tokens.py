"""What a QR code holds: a URL of the member site with a signed token naming one object and its nonce.

`{MEMBER_SITE_BASE_URL}/my/qr/<token>/`, the token being `<kind letter>.<signed [id, nonce]>`, signed with the
site's secret key and a salt per kind (so an event's token cannot pass for a flyer's). The points are never
in the code: they are read from the object when the member scans it. A new nonce (a store's new visit code)
makes the old codes invalid.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import models
from django.utils.translation import gettext_lazy as _

from qrpoints.models import Flyer, QrEvent, StoreVisitCode
from stores.models import Store


class QrKind(models.TextChoices):
    EVENT = "event", _("Event points")
    FLYER = "flyer", _("Flyer points")
    VISIT = "visit", _("Store visit")


# kind → (the letter that starts its tokens, its model)
KINDS = {
    QrKind.EVENT: ("e", QrEvent),
    QrKind.FLYER: ("f", Flyer),
    QrKind.VISIT: ("v", StoreVisitCode),
}
KIND_OF_LETTER = {letter: kind for kind, (letter, _model) in KINDS.items()}
KIND_OF_MODEL = {model: kind for kind, (_letter, model) in KINDS.items()}


class QrCodeInvalid(Exception):
    """A token that is not ours, was altered, or names something that no longer takes scans."""

    def __init__(self, message=None):
        self.message = message or _("This QR code is not valid. Please scan a code printed by the programme.")
        super().__init__(str(self.message))


def _signer(kind: str) -> signing.Signer:
    return signing.Signer(salt=f"qrpoints.{kind}")


def qr_token(obj: QrEvent | Flyer | StoreVisitCode) -> str:
    kind = KIND_OF_MODEL[type(obj)]
    letter, _model = KINDS[kind]
    return f"{letter}.{_signer(kind).sign_object([obj.pk, obj.nonce])}"


def qr_url(obj: QrEvent | Flyer | StoreVisitCode) -> str:
    """The URL a QR code of this event, flyer or store visit code holds."""
    return f"{settings.MEMBER_SITE_BASE_URL}/my/qr/{qr_token(obj)}/"


def qr_resolve(token: str) -> tuple[str, QrEvent | Flyer | Store]:
    """The kind and the object a token names: the QrEvent, the Flyer, or, for a visit code, its Store.
    Raises QrCodeInvalid for a token that is malformed, forged, of another kind, of an unknown object, or of
    a store's retired visit code."""
    letter, dot, signed = (token or "").partition(".")
    kind = KIND_OF_LETTER.get(letter)
    if kind is None or not dot:
        raise QrCodeInvalid()
    try:
        pk, nonce = _signer(kind).unsign_object(signed)
    except (signing.BadSignature, ValueError, TypeError):
        raise QrCodeInvalid() from None
    _letter, model = KINDS[kind]
    # What the scan reads next: the event's programme and paying store, the flyer's programme, the code's store.
    related = {QrEvent: ("programme", "store"), Flyer: ("programme",), StoreVisitCode: ("store",)}[model]
    queryset = model.objects.select_related(*related)
    obj = queryset.filter(pk=pk).first() if isinstance(pk, int) else None
    if obj is None or obj.nonce != nonce:
        raise QrCodeInvalid()
    if kind == QrKind.VISIT:
        if obj.retired_at is not None:
            raise QrCodeInvalid(
                _("This store's QR code has been replaced. Please scan the code displayed at the counter.")
            )
        return kind, obj.store
    return kind, obj
