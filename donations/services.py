"""Every write of point donations: a donation (from the member site, the app or the secretariat's desk),
the monthly close that settles each organisation's donations with a notice, the bank transfer file that
pays them, and recording the payment.

Locking: a donation locks only the member's point account (inside the ledger service), so donations to
one organisation never wait for each other. The close locks the programme's organisations in primary-key
order, then their unsettled donations, so two closes of one month queue and the second makes nothing; a
donation committed after the close read the month stays unsettled and goes into the next month's
settlement, so none is ever paid twice or lost.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from billing.models import BillingSettings
from billing.periods import period_bounds
from billing.services import billing_consignor
from billing.zengin import Transfer, ZenginError, zengin_transfer_file
from donations import errors
from donations.documents import render_notice_pdf
from donations.models import YEN_PER_POINT, Donation, DonationSettlement, Organisation
from points.models import Programme
from points.services import MAX_POINTS, points_donate

MAX_KEY_LENGTH = 190
# Donations marked settled per statement: well inside SQLite's limit on query parameters.
MARK_CHUNK = 500


# --- a donation ---------------------------------------------------------------------------------


def donation_make(
    *,
    member,
    organisation: Organisation,
    points: int,
    channel: str,
    idempotency_key: str,
    staff=None,
    at: datetime.datetime | None = None,
) -> Donation:
    """The member gives `points` to the organisation: a `donation` entry takes them from the member's
    account in the organisation's programme, soonest-expiring first, and the gift is recorded, with its
    audit row, in one durable transaction.

    Refused (DonationRefused, or the ledger's InsufficientPoints / MemberNotUsable) before anything is
    written: an organisation not taking donations today, fewer than 1 point, more than the balance. The
    same `idempotency_key` again returns the first donation, never a second one. `at`: when it was made
    (now unless given)."""
    key = (idempotency_key or "").strip() if isinstance(idempotency_key, str) else ""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise errors.InvalidRequest()
    if channel not in Donation.Channel.values:
        raise errors.InvalidRequest()
    if channel == Donation.Channel.DESK and not getattr(staff, "pk", None):
        raise errors.InvalidRequest(_("A donation at the desk must name the staff member who took it."))
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_POINTS:
        raise errors.InvalidRequest(_("Donate a whole number of points, 1 or more."))
    done = Donation.objects.filter(idempotency_key=key).first()
    if done is not None:
        return _same(done, member=member, organisation=organisation, points=points)
    at = at or timezone.now()
    try:
        with transaction.atomic(durable=True):
            return _make(
                member=member, organisation=organisation, points=points, channel=channel, key=key, staff=staff, at=at
            )
    except IntegrityError:
        # Two submits of one key at once: the other one won.
        done = Donation.objects.filter(idempotency_key=key).first()
        if done is None:
            raise
        return _same(done, member=member, organisation=organisation, points=points)


def _same(done: Donation, *, member, organisation, points) -> Donation:
    """A retry gets the first donation back; a key reused for another gift is refused."""
    if (done.member_id, done.organisation_id, done.points) != (member.pk, organisation.pk, points):
        raise errors.KeyUsedForAnother()
    return done


def _make(*, member, organisation, points, channel, key, staff, at) -> Donation:
    organisation = Organisation.objects.select_related("programme").get(pk=organisation.pk)
    if not organisation.programme.is_active or not organisation.is_active_on(timezone.localtime(at).date()):
        raise errors.OrganisationNotAccepting(organisation=organisation)
    posting = points_donate(
        member=member,
        programme=organisation.programme,
        points=points,
        idempotency_key=f"donation:{key}",
        staff=staff,
        reason=organisation.name,
        occurred_at=at,
    )
    donation = Donation.objects.create(
        organisation=organisation,
        member=member,
        entry=posting.entries[0],
        points=points,
        channel=channel,
        staff=staff if getattr(staff, "pk", None) else None,
        idempotency_key=key,
        created_at=at,
    )
    audit_record(
        actor=staff,
        action=AuditEvent.Action.ADD,
        obj=donation,
        summary=gettext_noop("Donated points to an organisation"),
        detail={"member": member.pseudonym, "organisation": organisation.pk, "points": points, "channel": channel},
    )
    return donation


# --- the monthly close ----------------------------------------------------------------------------


@dataclass
class DonationCloseResult:
    programme: Programme
    year: int
    month: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    # The settlements this run made (none when the month was already closed).
    settlements: list[DonationSettlement] = field(default_factory=list)
    notices_rendered: int = 0


def donations_period(*, programme: Programme, year: int, month: int) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the month `year-month` as the programme's billing closes it (its closing day; the
    calendar month when it has no billing settings), at Tokyo midnight."""
    closing_day = BillingSettings.objects.filter(programme=programme).values_list("closing_day", flat=True).first() or 0
    return period_bounds(year=year, month=month, closing_day=closing_day)


def donations_close(
    *, programme: Programme, year: int, month: int, staff=None, now: datetime.datetime | None = None
) -> DonationCloseResult:
    """Settle the month: each organisation of the programme gets one settlement of every donation made to
    it before the month's end and not settled yet (its count, points and yen, frozen), and a notice PDF.

    Safe to run again: an organisation settled for the month is left as it is, a donation is settled once,
    and only notices still missing are rendered. Raises DonationCloseError before the month has ended
    (plus the billing close's grace, for donations still in flight)."""
    now = now or timezone.now()
    starts_at, ends_at = donations_period(programme=programme, year=year, month=month)
    grace = datetime.timedelta(minutes=django_settings.BILLING_CLOSE_GRACE_MINUTES)
    if now < ends_at + grace:
        raise errors.DonationCloseError(
            _("The month %(period)s has not ended yet; its donations can be closed from %(when)s.")
            % {
                "period": f"{year}-{month:02d}",
                "when": timezone.localtime(ends_at + grace).strftime("%Y-%m-%d %H:%M"),
            }
        )
    result = DonationCloseResult(programme, year, month, starts_at, ends_at)
    with transaction.atomic(durable=True):
        organisations = list(Organisation.objects.select_for_update().filter(programme=programme).order_by("pk"))
        settled = set(
            DonationSettlement.objects.filter(organisation__in=organisations, year=year, month=month).values_list(
                "organisation_id", flat=True
            )
        )
        for organisation in organisations:
            if organisation.pk in settled:
                continue
            settlement = _settle(
                organisation, year=year, month=month, starts_at=starts_at, ends_at=ends_at, staff=staff
            )
            if settlement is not None:
                result.settlements.append(settlement)
        if result.settlements:
            audit_record(
                actor=staff,
                action=AuditEvent.Action.ACTION,
                object_type=DonationSettlement._meta.label,
                summary=gettext_noop("Closed a month of donations"),
                detail={
                    "programme": programme.code,
                    "period": f"{year}-{month:02d}",
                    "settlements": [
                        {"organisation": s.organisation_id, "donations": s.donation_count, "points": s.total_points}
                        for s in result.settlements
                    ],
                },
            )
    result.notices_rendered = notices_render_missing(programme=programme)
    return result


def _settle(organisation, *, year, month, starts_at, ends_at, staff) -> DonationSettlement | None:
    rows = list(
        Donation.objects.select_for_update()
        .filter(organisation=organisation, settlement__isnull=True, created_at__lt=ends_at)
        .order_by("pk")
        .values_list("pk", "points")
    )
    if not rows:
        return None
    points = sum(points for _pk, points in rows)
    settlement = DonationSettlement.objects.create(
        organisation=organisation,
        year=year,
        month=month,
        starts_at=starts_at,
        ends_at=ends_at,
        donation_count=len(rows),
        total_points=points,
        total_yen=points * YEN_PER_POINT,
        closed_at=timezone.now(),
        closed_by=staff if getattr(staff, "pk", None) else None,
    )
    ids = [pk for pk, _points in rows]
    for start in range(0, len(ids), MARK_CHUNK):
        Donation.objects.filter(pk__in=ids[start : start + MARK_CHUNK]).update(settlement=settlement)
    return settlement


def notice_store(*, settlement: DonationSettlement) -> DonationSettlement:
    """Render and keep the settlement's notice, unless it has one: an issued notice is never redone."""
    if settlement.notice_pdf:
        return settlement
    pdf = render_notice_pdf(settlement)
    with transaction.atomic():
        # The row lock makes two renderers of one settlement store one file.
        locked = DonationSettlement.objects.select_for_update().get(pk=settlement.pk)
        if locked.notice_pdf:
            return locked
        locked.notice_sha256 = hashlib.sha256(pdf).hexdigest()
        locked.notice_pdf.save(
            f"donation-{locked.year}-{locked.month:02d}-{locked.organisation_id}.pdf", ContentFile(pdf), save=False
        )
        locked.save(update_fields=["notice_pdf", "notice_sha256"])
    return locked


def notices_render_missing(*, programme: Programme) -> int:
    """Notices for the programme's settlements that have none yet (all of a close's, or after a worker
    died half-way, the rest)."""
    missing = list(
        DonationSettlement.objects.filter(organisation__programme=programme, notice_pdf="")
        .select_related("organisation__programme")
        .order_by("pk")
    )
    for settlement in missing:
        notice_store(settlement=settlement)
    return len(missing)


# --- paying the organisations ---------------------------------------------------------------------


def donations_transfer_file(*, settlements, transfer_date: datetime.date | None = None, staff=None) -> bytes:
    """A 全銀 総合振込 file (billing.zengin) paying the given settlements that are still to be paid, from the
    secretariat's account in the programme's billing settings, on `transfer_date` (today unless given).

    Raises ZenginError naming what is missing (the secretariat's account, an organisation's bank
    details), or when none of the settlements is to be paid, or they belong to several programmes."""
    payable = [s for s in settlements if s.status == DonationSettlement.Status.CLOSED]
    if not payable:
        raise ZenginError(_("None of the chosen settlements is still to be paid."))
    payable.sort(key=lambda s: s.pk)
    organisations = {o.pk: o for o in Organisation.objects.filter(pk__in={s.organisation_id for s in payable})}
    programmes = {o.programme_id for o in organisations.values()}
    if len(programmes) > 1:
        # Each programme pays from its own account: one file per programme.
        raise ZenginError(_("Choose the settlements of one programme at a time."))
    consignor = billing_consignor(programme_id=programmes.pop())
    transfer_date = transfer_date or timezone.localdate()
    transfers = []
    for settlement in payable:
        organisation = organisations[settlement.organisation_id]
        transfers.append(
            Transfer(
                bank_code=organisation.bank_code,
                branch_code=organisation.branch_code,
                account_type=organisation.account_type,
                account_number=organisation.account_number,
                holder_kana=organisation.account_holder_kana,
                amount_yen=settlement.total_yen,
                # The settlement's number, so the bank's statement names what each transfer paid.
                customer_code=str(settlement.pk),
                bank_name_kana=organisation.bank_name_kana,
                branch_name_kana=organisation.branch_name_kana,
            )
        )
    content = zengin_transfer_file(consignor=consignor, transfer_date=transfer_date, transfers=transfers)
    audit_record(
        actor=staff,
        action=AuditEvent.Action.EXPORT,
        object_type=DonationSettlement._meta.label,
        summary=gettext_noop("Exported a bank transfer file of donations"),
        detail={"settlements": [s.pk for s in payable], "transfer_date": transfer_date.isoformat()},
    )
    return content


def settlement_mark_paid(*, settlement: DonationSettlement, on: datetime.date, staff) -> DonationSettlement:
    """Record that the organisation was paid (the transfer went through). Paid once; again changes nothing."""
    with transaction.atomic():
        settlement = DonationSettlement.objects.select_for_update().get(pk=settlement.pk)
        if settlement.status == DonationSettlement.Status.PAID:
            return settlement
        settlement.status, settlement.paid_on = DonationSettlement.Status.PAID, on
        settlement.paid_by = staff if getattr(staff, "pk", None) else None
        settlement.save(update_fields=["status", "paid_on", "paid_by"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=settlement,
            summary=gettext_noop("Recorded a donation settlement as paid"),
            detail={"on": on.isoformat(), "amount_yen": settlement.total_yen},
        )
    return settlement
