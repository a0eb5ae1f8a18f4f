"""Every write to merchants, stores and terminals.

Terminal secrets: the clear secret leaves this module exactly once, as the
return value of `terminal_issue_secret`; only its SHA-256 is stored, and it
never reaches the audit trail or a log.
"""

import datetime
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from stores.models import Merchant, Store, Terminal
from stores.selectors import terminal_secret_hash

# How stale `last_seen_at` may get: one UPDATE per terminal per minute at most,
# however busy its till is.
TERMINAL_TOUCH_INTERVAL = datetime.timedelta(minutes=1)


def terminal_issue_secret(*, terminal: Terminal, staff) -> str:
    """Give the terminal a new bearer secret and return it in clear, to be shown once.

    The previous secret stops working at once. A revoked terminal stays
    revoked: the new secret works only after `terminal_reactivate`.
    """
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        terminal.secret_hash = terminal_secret_hash(secret)
        terminal.secret_issued_at = timezone.now()
        terminal.save(update_fields=["secret_hash", "secret_issued_at"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=terminal,
            summary=gettext_noop("terminal secret issued"),
            detail={"service": "terminal_issue_secret"},
        )
    return secret


def terminal_revoke(*, terminal: Terminal, staff) -> None:
    """Stop the terminal at once: its secret is forgotten and it cannot authenticate."""
    with transaction.atomic():
        terminal.status = Terminal.Status.REVOKED
        terminal.revoked_at = timezone.now()
        terminal.revoked_by = staff
        terminal.secret_hash = None
        terminal.save(update_fields=["status", "revoked_at", "revoked_by", "secret_hash"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=terminal,
            summary=gettext_noop("terminal revoked"),
            detail={"service": "terminal_revoke"},
        )


def terminal_reactivate(*, terminal: Terminal, staff) -> None:
    """Let a revoked terminal work again; it still needs a freshly issued secret,
    since revoking forgot the old one."""
    with transaction.atomic():
        terminal.status = Terminal.Status.ACTIVE
        terminal.revoked_at = None
        terminal.revoked_by = None
        terminal.save(update_fields=["status", "revoked_at", "revoked_by"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=terminal,
            summary=gettext_noop("terminal reactivated"),
            detail={"service": "terminal_reactivate"},
        )


def terminal_touch(*, terminal: Terminal, now: datetime.datetime | None = None) -> bool:
    """Note that the terminal was heard from; True if the row was written.

    Called on every terminal request, so it is one conditional UPDATE (its own
    transaction, no savepoint), skipped altogether while the value in hand is
    less than a minute old.
    """
    now = now or timezone.now()
    if terminal.last_seen_at is not None and now - terminal.last_seen_at < TERMINAL_TOUCH_INTERVAL:
        return False
    stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=now - TERMINAL_TOUCH_INTERVAL)
    written = Terminal.objects.filter(stale, pk=terminal.pk).update(last_seen_at=now)
    if written:
        terminal.last_seen_at = now
    return bool(written)


def _store_set_status(*, store: Store, status: str, staff, summary: str, service: str) -> None:
    with transaction.atomic():
        store.status = status
        store.save(update_fields=["status"])
        audit_record(
            actor=staff, action=AuditEvent.Action.ACTION, obj=store, summary=summary, detail={"service": service}
        )


def store_suspend(*, store: Store, staff) -> None:
    """Suspend a store's participation (unpaid bills, a dispute); its data stays."""
    _store_set_status(
        store=store,
        status=Store.Status.SUSPENDED,
        staff=staff,
        summary=gettext_noop("store suspended"),
        service="store_suspend",
    )


def store_reactivate(*, store: Store, staff) -> None:
    _store_set_status(
        store=store,
        status=Store.Status.ACTIVE,
        staff=staff,
        summary=gettext_noop("store reactivated"),
        service="store_reactivate",
    )


def merchant_monthly_report_set(*, merchant: Merchant, wanted: bool, user) -> None:
    """Whether the merchant gets the monthly report by mail: set by the merchant in the portal, or by the
    secretariat in the admin."""
    with transaction.atomic():
        updated = Merchant.objects.filter(pk=merchant.pk).exclude(monthly_report=wanted).update(monthly_report=wanted)
        merchant.monthly_report = wanted
        if updated:
            audit_record(
                actor=user,
                action=AuditEvent.Action.CHANGE,
                obj=merchant,
                summary=gettext_noop("monthly report asked for") if wanted else gettext_noop("monthly report stopped"),
                detail={"service": "merchant_monthly_report_set", "monthly_report": wanted},
            )
