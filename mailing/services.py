"""Every write of mail to members: a mailing saved, scheduled, sent or cancelled; its sending in batches; the
monthly reminder of expiring points; consent withdrawn by the unsubscribe link or by the provider's report of
a bounce or a complaint.

Sending (docs/member-mail.md): a run reads the next batch of recipients (segment, consent now, e-mail) after
the mailing's cursor; for each member it claims the member's `Delivery` row (an INSERT, committed, refused by
the row's uniqueness when an earlier or concurrent run has it: then the member is not this run's to send),
reads the consent ledger once more, sends, and at the end of the batch records its outcomes in one
transaction. A member is therefore mailed at most once: a run that dies after a claim leaves the row pending
("outcome unknown") and no later run sends it again, which is the right failure for marketing mail.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from mailing.composing import Templates, message_build, templates_check, unsubscribe_token_read
from mailing.models import MAIL_PURPOSES, Delivery, ExpiryReminder, Mailing
from mailing.selectors import mailing_figures, mailing_reach, mailing_recipients
from members.models import Consent, Member
from members.selectors import members_consenting
from members.services import personal_data_indexes
from members.services.consents import consent_record

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
# A task sends for about this long, then queues its continuation (django-q2's timeout is an hour).
RUN_SECONDS = 300
# A sending not heard from for this long is taken up again by the minute's check (its worker died).
STALE_AFTER = datetime.timedelta(minutes=10)


class MailingError(ValueError):
    """What an operator asked cannot be done to this mailing now; the message says why."""


# --- the operator's mailing ----------------------------------------------------------------------------------


def mailing_save(*, mailing: Mailing, staff, changed: list[str] | None = None) -> Mailing:
    """Save a mailing as an operator wrote it (a draft, or a scheduled one before it is sent), audited."""
    templates_check(subject=mailing.subject, body=mailing.body)
    with transaction.atomic():
        adding = mailing.pk is None
        if not adding:
            status = Mailing.objects.select_for_update().values_list("status", flat=True).get(pk=mailing.pk)
            if status not in Mailing.EDITABLE:
                raise MailingError(_("A mailing that is being sent, was sent or was cancelled cannot be changed."))
        else:
            mailing.created_by = staff if getattr(staff, "pk", None) else None
        mailing.save()
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD if adding else AuditEvent.Action.CHANGE,
            obj=mailing,
            summary=gettext_noop("mailing written") if adding else gettext_noop("mailing changed"),
            detail={"changed": changed or [], "status": mailing.status},
        )
    return mailing


def mailing_send_now(*, mailing: Mailing, staff) -> Mailing:
    """Start sending a draft or scheduled mailing now, in the background."""
    if not _start(mailing.pk, now=timezone.now(), staff=staff):
        raise MailingError(_("Only a draft or a scheduled mailing can be sent."))
    mailing.refresh_from_db()
    return mailing


def mailing_schedule(*, mailing: Mailing, send_at: datetime.datetime, staff) -> Mailing:
    """Send a draft (or a scheduled mailing, again) at send_at; it is started by the minute's check."""
    if send_at <= timezone.now():
        raise MailingError(_("Choose a time in the future, or send the mailing now."))
    with transaction.atomic():
        changed = Mailing.objects.filter(pk=mailing.pk, status__in=Mailing.EDITABLE).update(
            status=Mailing.Status.SCHEDULED, send_at=send_at
        )
        if not changed:
            raise MailingError(_("Only a draft or a scheduled mailing can be scheduled."))
        mailing.refresh_from_db()
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=mailing,
            summary=gettext_noop("mailing scheduled"),
            detail={"send_at": send_at.isoformat()},
        )
    return mailing


def mailing_cancel(*, mailing: Mailing, staff) -> Mailing:
    """Cancel a draft or a scheduled mailing, or stop one being sent before its next batch (what was sent
    stays sent)."""
    with transaction.atomic():
        changed = Mailing.objects.filter(pk=mailing.pk, status__in=(*Mailing.EDITABLE, Mailing.Status.SENDING)).update(
            status=Mailing.Status.CANCELLED, finished_at=timezone.now()
        )
        if not changed:
            raise MailingError(_("A mailing that was sent or cancelled cannot be cancelled."))
        mailing.refresh_from_db()
        audit_record(
            actor=staff, action=AuditEvent.Action.ACTION, obj=mailing, summary=gettext_noop("mailing cancelled")
        )
    return mailing


def _start(mailing_id: int, *, now: datetime.datetime, staff=None) -> bool:
    """Draft or scheduled → sending, with the number of members it reaches now; the run queued on commit."""
    with transaction.atomic():
        started = Mailing.objects.filter(pk=mailing_id, status__in=Mailing.EDITABLE).update(
            status=Mailing.Status.SENDING, started_at=now, progress_at=now
        )
        if not started:
            return False
        mailing = Mailing.objects.get(pk=mailing_id)
        mailing.target_count = mailing_reach(mailing)
        # When it went: the time it was scheduled for, or now if sent before that.
        mailing.send_at = min(mailing.send_at, now) if mailing.send_at else now
        mailing.save(update_fields=["target_count", "send_at"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=mailing,
            summary=gettext_noop("mailing sending started"),
            detail={"members": mailing.target_count},
        )
        _queue(mailing_id)
    return True


def _queue(mailing_id: int) -> None:
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task("mailing.tasks.send_mailing", mailing_id, task_name=f"mailing {mailing_id}")
    )


def mailings_send_due(*, now: datetime.datetime | None = None) -> list[int]:
    """The minute's check: start the scheduled mailings whose time has come, and take up again any sending
    not heard from for STALE_AFTER (its worker died; the claims keep anyone from being mailed twice)."""
    now = now or timezone.now()
    queued = []
    for mailing_id in Mailing.objects.filter(status=Mailing.Status.SCHEDULED, send_at__lte=now).values_list(
        "pk", flat=True
    ):
        if _start(mailing_id, now=now):
            queued.append(mailing_id)
    stale = Mailing.objects.filter(status=Mailing.Status.SENDING, progress_at__lt=now - STALE_AFTER)
    for mailing_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            if stale.filter(pk=mailing_id).update(progress_at=now):
                _queue(mailing_id)
                queued.append(mailing_id)
    return queued


# --- sending ----------------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    """What a batch did: the members it read, and the outcome of each it claimed."""

    read: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)
    done: bool = False


def mailing_send_run(*, mailing_id: int, seconds: float | None = None) -> str:
    """Send a mailing's batches until none is left (then it is sent) or `seconds` (RUN_SECONDS) have passed
    (then the answer is "more": the task queues its continuation). Stops before the next batch once
    cancelled."""
    deadline = time.monotonic() + (RUN_SECONDS if seconds is None else seconds)
    while True:
        mailing = Mailing.objects.select_related("programme").get(pk=mailing_id)
        if mailing.status != Mailing.Status.SENDING:
            return mailing.status
        result = mailing_send_batch(mailing=mailing)
        if result.done:
            _finish(mailing)
            return Mailing.Status.SENT
        if time.monotonic() >= deadline:
            return "more"


def mailing_send_batch(*, mailing: Mailing, size: int | None = None) -> BatchResult:
    """One batch: the next `size` (BATCH_SIZE) recipients after the cursor, each claimed, checked and sent."""
    size = size or BATCH_SIZE
    member_ids = list(
        mailing_recipients(mailing).filter(pk__gt=mailing.cursor).order_by("pk").values_list("pk", flat=True)[:size]
    )
    if not member_ids:
        return BatchResult(done=True)
    outcomes = deliveries_send(mailing=mailing, member_ids=member_ids)
    Mailing.objects.filter(pk=mailing.pk, cursor__lt=member_ids[-1]).update(cursor=member_ids[-1])
    mailing.cursor = max(mailing.cursor, member_ids[-1])
    return BatchResult(read=len(member_ids), outcomes=outcomes, done=len(member_ids) < size)


def deliveries_send(*, mailing: Mailing, member_ids: list[int]) -> dict[int, str]:
    """Send the mailing to each member, in the order given, who is not yet claimed: the member's delivery is
    claimed (committed) first, then their consent to the mailing's purpose is read from the ledger at that
    instant, and the message goes only if it holds and they have an e-mail address. Returns {member id:
    delivery status} for the members this call claimed; their outcomes are written at the end, together."""
    connection = get_connection()
    # Opened before anyone is claimed: a provider that cannot be reached leaves nobody claimed and unsent.
    connection.open()
    figures = mailing_figures(mailing=mailing, member_ids=member_ids)
    templates = Templates.of(subject=mailing.subject, body=mailing.body)
    outcomes: dict[int, str] = {}
    recorded: dict[tuple[str, str], list[int]] = {}
    try:
        for member_id in member_ids:
            delivery_id = _claim(mailing, member_id)
            if delivery_id is None:
                continue  # an earlier or a concurrent run has it
            status, error = _send_one(mailing, member_id, templates, figures[member_id], connection)
            outcomes[member_id] = status
            recorded.setdefault((status, error), []).append(delivery_id)
    finally:
        connection.close()
        # One short transaction for the batch, not a commit per outcome: a worker that dies first leaves the
        # rows of those it attempted "outcome unknown", which they are; those it had not reached are unclaimed.
        _record(mailing, outcomes, recorded)
    return outcomes


def _claim(mailing: Mailing, member_id: int) -> int | None:
    """The member's delivery row, inserted and committed before their message is sent; None if it exists."""
    try:
        with transaction.atomic():
            return Delivery.objects.create(mailing_id=mailing.pk, member_id=member_id, at=timezone.now()).pk
    except IntegrityError:
        return None


def _record(mailing: Mailing, outcomes: dict[int, str], recorded: dict[tuple[str, str], list[int]]) -> None:
    now = timezone.now()
    counts = Counter(outcomes.values())
    with transaction.atomic():
        for (status, error), delivery_ids in recorded.items():
            Delivery.objects.filter(pk__in=delivery_ids).update(status=status, at=now, error=error)
        Mailing.objects.filter(pk=mailing.pk).update(
            sent_count=F("sent_count") + counts[Delivery.Status.SENT],
            skipped_count=F("skipped_count") + sum(counts[status] for status in Delivery.SKIPPED),
            failed_count=F("failed_count") + counts[Delivery.Status.FAILED],
            progress_at=now,
        )


def _send_one(mailing: Mailing, member_id: int, templates: Templates, figures, connection) -> tuple[str, str]:
    one = Member.objects.filter(pk=member_id).only("pk", "status", "name", "email")
    member = members_consenting(one, purpose=mailing.purpose).first()
    if member is None:
        return Delivery.Status.SKIPPED_NO_CONSENT, ""
    if not member.email:
        return Delivery.Status.SKIPPED_NO_EMAIL, ""
    message = message_build(
        templates=templates,
        member_id=member.pk,
        name=member.name,
        email=member.email,
        purpose=mailing.purpose,
        programme=mailing.programme,
        figures=figures,
        connection=connection,
    )
    try:
        message.send()
    except Exception as error:  # noqa: BLE001 - any provider's failure is this member's outcome, not the batch's
        # The class only: a provider's message may carry the address.
        logger.warning("mailing %s: member %s not sent: %s", mailing.pk, member_id, type(error).__name__)
        return Delivery.Status.FAILED, type(error).__name__
    return Delivery.Status.SENT, ""


def _finish(mailing: Mailing) -> None:
    """Sending → sent, with the counts read back from the send log."""
    counts = dict(
        Delivery.objects.filter(mailing_id=mailing.pk).values_list("status").annotate(n=Count("pk")).order_by()
    )
    Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.SENDING).update(
        status=Mailing.Status.SENT,
        finished_at=timezone.now(),
        progress_at=timezone.now(),
        sent_count=counts.get(Delivery.Status.SENT, 0),
        skipped_count=sum(counts.get(status, 0) for status in Delivery.SKIPPED),
        failed_count=counts.get(Delivery.Status.FAILED, 0),
    )


# --- the monthly reminder of expiring points ---------------------------------------------------------------


def reminder_default_text() -> tuple[str, str]:
    """The reminder's subject and body until the programme writes its own, in the members' language."""
    with translation.override(settings.LANGUAGE_CODE):
        return (
            _("{{ programme }}: {{ expiring_points }} points expire next month"),
            _(
                "Dear {{ name }},\n\nThank you for shopping with {{ programme }}.\n"
                "{{ expiring_points }} of your points expire next month (the first on {{ expiring_on }}).\n"
                "Your balance is {{ balance }} points. Use them at our stores before they expire."
            ),
        )


def expiry_reminder_save(*, reminder: ExpiryReminder, staff, changed: list[str] | None = None) -> ExpiryReminder:
    """Save a programme's reminder text (and whether it is sent each month), audited."""
    templates_check(subject=reminder.subject, body=reminder.body)
    with transaction.atomic():
        adding = reminder.pk is None
        reminder.save()
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD if adding else AuditEvent.Action.CHANGE,
            obj=reminder,
            summary=gettext_noop("expiry reminder saved"),
            detail={"changed": changed or [], "active": reminder.active},
        )
    return reminder


def mailing_expiring_reminder(*, programme, month: datetime.date) -> Mailing:
    """The month's reminder to the programme's members with points expiring in the month after `month`
    (mail magazine consent), created and started once: asked again for the same month, it is returned as
    it is."""
    month = month.replace(day=1)
    existing = Mailing.objects.filter(programme=programme, reminder_month=month).first()
    if existing is not None:
        return existing
    reminder = ExpiryReminder.objects.filter(programme=programme).first()
    subject, body = (reminder.subject, reminder.body) if reminder else reminder_default_text()
    try:
        with transaction.atomic():
            mailing = Mailing.objects.create(
                programme=programme,
                purpose=Mailing.Purpose.MAIL_MAGAZINE,
                subject=subject,
                body=body,
                expiring_next_month=True,
                reminder_month=month,
            )
            _start(mailing.pk, now=timezone.now())
    except IntegrityError:
        # A concurrent run made it first.
        return Mailing.objects.get(programme=programme, reminder_month=month)
    mailing.refresh_from_db()
    return mailing


def expiry_reminders_send(*, today: datetime.date | None = None) -> list[Mailing]:
    """The monthly schedule's work: this month's reminder of every programme whose reminder is active."""
    month = (today or timezone.localdate()).replace(day=1)
    reminders = ExpiryReminder.objects.filter(active=True).select_related("programme").order_by("pk")
    return [mailing_expiring_reminder(programme=reminder.programme, month=month) for reminder in reminders]


# --- consent withdrawn from a mail -------------------------------------------------------------------------


def mailing_unsubscribe(*, token: str) -> bool:
    """The member's one-click unsubscribe (the link's POST): their consent to the token's purpose withdrawn,
    through the member site's channel. signing.BadSignature for a token that is not ours; True if it
    changed anything (a second click changes nothing)."""
    member_id, purpose = unsubscribe_token_read(token)
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise signing.BadSignature("no such member")
    with transaction.atomic():
        rows = consent_record(member=member, choices={purpose: False}, channel=Consent.Channel.SITE)
        if rows:
            audit_record(
                actor=None,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("mail consent withdrawn by the unsubscribe link"),
                detail={"purpose": purpose},
            )
    return bool(rows)


PROVIDER_SUMMARIES = {
    "bounced": gettext_noop("mail consent withdrawn: the provider reported a bounce"),
    "complained": gettext_noop("mail consent withdrawn: the provider reported a complaint"),
    "unsubscribed": gettext_noop("mail consent withdrawn: the member unsubscribed at the provider"),
}


def mail_consent_withdraw_reported(*, email: str, event: str, provider: str = "", event_id: str = "") -> int:
    """A bounce, complaint or unsubscribe the mail provider reported for an address: every member with that
    address (found by its blind index) withdraws consent to every mail purpose, through the member site's
    channel (Consent has no channel of its own for a provider; the audit trail names the report). Returns
    how many members' consent changed."""
    index = personal_data_indexes({"email": email}).get("email_bidx")
    if not index or event not in PROVIDER_SUMMARIES:
        return 0
    changed = 0
    for member in Member.objects.filter(email_bidx=index).order_by("pk"):
        with transaction.atomic():
            rows = consent_record(
                member=member, choices=dict.fromkeys(MAIL_PURPOSES, False), channel=Consent.Channel.SITE
            )
            if rows:
                changed += 1
                audit_record(
                    actor=None,
                    action=AuditEvent.Action.ACTION,
                    obj=member,
                    summary=PROVIDER_SUMMARIES[event],
                    detail={"provider": provider, "event_id": event_id, "purposes": [row.purpose for row in rows]},
                )
    return changed
