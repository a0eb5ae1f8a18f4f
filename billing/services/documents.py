"""Issued documents: the PDF of each statement, stored once with its SHA-256, and the merchants' notice."""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from audit.models import AuditEvent
from audit.services import audit_record
from billing.documents.data import Day, Line, Party, StatementDocument, TaxSummary
from billing.documents.pdf import render_statement_pdf
from billing.models import Period, Statement, StatementFile
from billing.money import TAX_RATE_PERCENT
from billing.services.progress import period_progress

RETENTION_YEARS = 7


def statement_document(statement: Statement) -> StatementDocument:
    """The printable document of a statement, from its frozen snapshot and lines only."""
    snapshot = statement.snapshot
    lines = tuple(
        Line(
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            amount_yen=line.amount_yen,
            tax=line.tax,
        )
        for line in statement.lines.order_by("position")
    )
    taxable = tuple(
        [TaxSummary(TAX_RATE_PERCENT, statement.taxable_amount_yen, statement.tax_yen)]
        if statement.taxable_amount_yen or statement.tax_yen
        else []
    )
    return StatementDocument(
        number=statement.number,
        issued_on=statement.issued_on,
        period_label=snapshot["period_label"],
        period_start=datetime.date.fromisoformat(snapshot["period_start"]),
        period_end=datetime.date.fromisoformat(snapshot["period_end"]),
        due_on=statement.due_on,
        issuer=Party(**snapshot["issuer"]),
        recipient=Party(**snapshot["recipient"]),
        store_code=snapshot["store_code"],
        store_name=snapshot["store_name"],
        direction=statement.direction,
        lines=lines,
        days=tuple(Day(datetime.date.fromisoformat(d), issued, spent, n) for d, issued, spent, n in snapshot["days"]),
        tax_summaries=taxable,
        non_taxable_total_yen=statement.non_taxable_amount_yen,
        net_amount_yen=statement.net_amount_yen,
        payment_note=snapshot["payment_note"],
        rounding_note=snapshot["rounding_note"],
        adjustments_note=snapshot.get("adjustments_note", ""),
    )


def statement_file_store(*, statement: Statement) -> StatementFile:
    """Render and keep the statement's PDF, unless it already has one: an issued PDF is never redone."""
    existing = StatementFile.objects.filter(statement=statement).first()
    if existing is not None:
        return existing
    pdf = render_statement_pdf(statement_document(statement))
    with transaction.atomic():
        # The row lock makes two renderers of one statement store one file.
        Statement.objects.select_for_update().filter(pk=statement.pk).first()
        existing = StatementFile.objects.filter(statement=statement).first()
        if existing is not None:
            return existing
        record = StatementFile(
            statement=statement,
            sha256=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
            retain_until=statement.issued_on.replace(
                year=statement.issued_on.year + RETENTION_YEARS + 1, month=1, day=1
            )
            - datetime.timedelta(days=1),
        )
        record.pdf.save(f"{statement.number}-{statement.store.code}.pdf", ContentFile(pdf), save=False)
        record.save()
    return record


def documents_render_missing(*, period: Period) -> int:
    """PDFs for the period's live statements that have none yet (all of them after a close; after a
    worker died half-way, the rest). Progress goes to the period for the admin to show."""
    missing = list(
        period.statements.exclude(status=Statement.Status.CANCELLED)
        .filter(file__isnull=True)
        .select_related("store")
        .order_by("number")
    )
    for done, statement in enumerate(missing, start=1):
        statement_file_store(statement=statement)
        if done % 10 == 0 or done == len(missing):
            period_progress(period=period, phase="documents", done=done, total=len(missing))
    return len(missing)


def period_send(*, period: Period, staff) -> int:
    """Publish a closed period's documents to the merchant portal and tell each merchant by e-mail.

    After this the period can no longer be reopened. Returns the statements sent.
    """
    if period.status != Period.Status.CLOSED:
        raise ValueError(_("Only the documents of a closed period can be sent."))
    documents_render_missing(period=period)
    with transaction.atomic(durable=True):
        statements = list(
            period.statements.select_for_update()
            .filter(status=Statement.Status.ISSUED)
            .select_related("merchant", "store")
            .order_by("merchant__code", "number")
        )
        now = timezone.now()
        Statement.objects.filter(pk__in=[s.pk for s in statements]).update(status=Statement.Status.SENT, sent_at=now)
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=period,
            summary=gettext_noop("Sent the billing documents to merchants"),
            detail={"statements": len(statements)},
        )
        messages = _notices(period, statements)
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return len(statements)


def _notices(period: Period, statements: list[Statement]) -> list[tuple]:
    by_merchant: dict = {}
    for statement in statements:
        by_merchant.setdefault(statement.merchant, []).append(statement)
    portal = django_settings.PORTAL_BASE_URL.rstrip("/") + "/portal/"
    messages = []
    # Merchants read Japanese; the notice does not follow the language of the staff member who sent it.
    with override("ja"):
        for merchant, own in by_merchant.items():
            if not merchant.email:
                continue
            stores = "\n".join(f"- {s.store.name}（{s.number}）" for s in own)
            subject = _("%(period)s statements are ready") % {"period": period.label}
            body = _(
                "Dear %(merchant)s,\n\nYour statements and invoices for %(period)s are ready:\n%(stores)s\n\n"
                "Download them from the merchant portal: %(portal)s\n"
            ) % {"merchant": merchant.name, "period": period.label, "stores": stores, "portal": portal}
            messages.append((subject, body, None, [merchant.email]))
    return messages
