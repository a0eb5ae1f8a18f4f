"""Each store's visit code: the QR at its counter, one live code per store."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from qrpoints.models import StoreVisitCode
from qrpoints.tokens import qr_url
from stores.models import Store


def store_visit_code_current(*, store: Store) -> StoreVisitCode:
    """The store's live visit code, issued now if it has none (by nobody: the first ask for it). May run inside
    the caller's transaction."""
    live = StoreVisitCode.objects.filter(store=store, retired_at__isnull=True).first()
    if live is not None:
        return live
    try:
        with transaction.atomic():
            return StoreVisitCode.objects.create(store=store)
    except IntegrityError:
        # Issued at the same moment by another request.
        return StoreVisitCode.objects.get(store=store, retired_at__isnull=True)


def store_visit_url(store: Store) -> str:
    """The URL the store's visit QR holds, for a poster at the counter or a terminal's screen."""
    return qr_url(store_visit_code_current(store=store))


def store_visit_code_issue(*, store: Store, staff) -> StoreVisitCode:
    """A new visit code for the store; its previous code stops working (a printed poster shows an error)."""
    with transaction.atomic():
        now = timezone.now()
        retired = list(
            StoreVisitCode.objects.select_for_update()
            .filter(store=store, retired_at__isnull=True)
            .values_list("pk", flat=True)
        )
        StoreVisitCode.objects.filter(pk__in=retired).update(retired_at=now)
        code = StoreVisitCode.objects.create(store=store, issued_by=staff)
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD,
            obj=code,
            summary=gettext_noop("store visit code issued"),
            detail={"store": store.pk, "retired": retired},
        )
    return code
