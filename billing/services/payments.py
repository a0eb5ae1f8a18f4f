"""Settling statements: payments received, payouts made, and the bank transfer file for the payouts."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from billing.models import BillingSettings, Statement
from billing.zengin import Consignor, Transfer, ZenginError, zengin_transfer_file


def statement_settle(*, statement: Statement, on: datetime.date, staff) -> Statement:
    """Record that a statement was paid by the store, or paid out to it."""
    with transaction.atomic():
        statement = Statement.objects.select_for_update().get(pk=statement.pk)
        if statement.status == Statement.Status.CANCELLED:
            raise ValueError(_("A cancelled statement cannot be settled."))
        if statement.settled_on is not None:
            return statement
        statement.settled_on, statement.settled_by = on, staff
        statement.save(update_fields=["settled_on", "settled_by"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=statement,
            summary=gettext_noop("Recorded the statement as settled"),
            detail={"on": on.isoformat(), "amount_yen": statement.net_amount_yen},
        )
    return statement


def billing_consignor(*, programme_id: int) -> Consignor:
    """The 依頼人 of a programme's transfer files: the secretariat's account in its billing settings.

    Raises ZenginError when the settings lack the consignor code or the account."""
    settings = BillingSettings.objects.filter(programme_id=programme_id).first()
    if settings is None or not (
        settings.consignor_code and settings.bank_code and settings.branch_code and settings.account_number
    ):
        raise ZenginError(_("Enter the secretariat's consignor code and bank account in the billing settings."))
    return Consignor(
        code=settings.consignor_code,
        name_kana=settings.consignor_name_kana,
        bank_code=settings.bank_code,
        bank_name_kana=settings.bank_name_kana,
        branch_code=settings.branch_code,
        branch_name_kana=settings.branch_name_kana,
        account_type=settings.account_type,
        account_number=settings.account_number,
    )


def statements_transfer_file(*, statements, transfer_date: datetime.date, staff) -> bytes:
    """A 全銀 総合振込 file paying out the given statements that the secretariat owes and has not paid.

    Raises ZenginError naming what is missing (the secretariat's account, a merchant's bank details).
    """
    payable = [
        s
        for s in statements
        if s.direction == Statement.Direction.STORE_IS_PAID
        and s.settled_on is None
        and s.status != Statement.Status.CANCELLED
    ]
    if not payable:
        raise ZenginError(_("None of the chosen statements is a payout still to be made."))
    programmes = {s.period.programme_id for s in payable}
    if len(programmes) > 1:
        # Each programme pays out from its own account: one file per programme.
        raise ZenginError(_("Choose the payouts of one programme at a time."))
    consignor = billing_consignor(programme_id=programmes.pop())
    transfers = []
    for statement in payable:
        merchant = statement.merchant
        if not (merchant.bank_code and merchant.bank_branch_code and merchant.bank_account_number):
            raise ZenginError(_("%(merchant)s has no bank account on file.") % {"merchant": merchant})
        transfers.append(
            Transfer(
                bank_code=merchant.bank_code,
                branch_code=merchant.bank_branch_code,
                account_type=merchant.bank_account_type,
                account_number=merchant.bank_account_number,
                holder_kana=merchant.bank_account_holder_kana or merchant.name_kana,
                amount_yen=-statement.net_amount_yen,
                customer_code=statement.number.replace("-", "")[-10:],
            )
        )
    content = zengin_transfer_file(consignor=consignor, transfer_date=transfer_date, transfers=transfers)
    audit_record(
        actor=staff,
        action=AuditEvent.Action.EXPORT,
        object_type="billing.Statement",
        summary=gettext_noop("Exported a bank transfer file"),
        detail={"statements": [s.number for s in payable], "transfer_date": transfer_date.isoformat()},
    )
    return content
