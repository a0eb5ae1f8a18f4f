"""The staff's QR events and flyers, saved with their audit rows."""

from __future__ import annotations

from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from qrpoints.models import Flyer, QrEvent


def qr_event_save(*, event: QrEvent, staff, changed: list[str] | None = None) -> QrEvent:
    """Create or change a QR event, with its audit row naming the fields changed."""
    return _audited_save(event, staff=staff, changed=changed)


def flyer_save(*, flyer: Flyer, staff, changed: list[str] | None = None, stores=None) -> Flyer:
    """Create or change a flyer (and, when given, the stores where its visit counts), with its audit row."""
    with transaction.atomic():
        _audited_save(flyer, staff=staff, changed=changed)
        if stores is not None:
            flyer.stores.set(stores)
    return flyer


def _audited_save(obj: QrEvent | Flyer, *, staff, changed: list[str] | None):
    with transaction.atomic():
        adding = obj.pk is None
        if adding:
            obj.created_by = staff
        obj.save()
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD if adding else AuditEvent.Action.CHANGE,
            obj=obj,
            detail={"changed": changed or []},
        )
    return obj
