"""Mail to members: a mailing (its text, its segment, its sending), the log of what each member was sent, and
each programme's monthly reminder of points about to expire.

A mailing goes only to members whose consent to its purpose holds at the moment their message is sent (read
from the consent ledger, members.selectors), in batches; a `Delivery` row is claimed for a member before
their message is sent, and the row's uniqueness is what keeps a member from being mailed twice when the
sending runs again (docs/member-mail.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Consent, Member
from points.models import Programme

# The purposes of the consent ledger that are mail to the member's e-mail address.
MAIL_PURPOSES = (Consent.Purpose.MAIL_MAGAZINE, Consent.Purpose.DIRECT_MAIL)


class Mailing(models.Model):
    """One mail to the members of a programme who fall in its segment and consent to its purpose."""

    class Purpose(models.TextChoices):
        MAIL_MAGAZINE = Consent.Purpose.MAIL_MAGAZINE.value, Consent.Purpose.MAIL_MAGAZINE.label
        DIRECT_MAIL = Consent.Purpose.DIRECT_MAIL.value, Consent.Purpose.DIRECT_MAIL.label

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", pgettext_lazy("mail", "Sent")
        CANCELLED = "cancelled", _("Cancelled")

    # What may still be edited, sent or scheduled.
    EDITABLE = (Status.DRAFT, Status.SCHEDULED)

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    purpose = models.CharField(
        _("purpose"),
        max_length=16,
        choices=Purpose.choices,
        default=Purpose.MAIL_MAGAZINE,
        help_text=_("Only members whose consent to this purpose holds when their mail is sent receive it."),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))

    # The segment: every condition set must hold; none set means every member of the programme.
    genders = models.JSONField(_("genders"), default=list, blank=True)
    age_min = models.PositiveSmallIntegerField(_("age from"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("age up to (inclusive)"), null=True, blank=True)
    postal_prefixes = models.JSONField(_("postal code prefixes"), default=list, blank=True)
    rank_ids = models.JSONField(_("ranks"), default=list, blank=True)
    visited_within_days = models.PositiveIntegerField(
        _("visited in the last N days"),
        null=True,
        blank=True,
        help_text=_("A purchase at a store of the programme in the last N days. Empty: not a condition."),
    )
    not_visited_for_days = models.PositiveIntegerField(
        _("no visit in the last N days"),
        null=True,
        blank=True,
        help_text=_("Members who bought before but not in the last N days. Empty: not a condition."),
    )
    store_ids = models.JSONField(_("visited one of these stores"), default=list, blank=True)
    expiring_next_month = models.BooleanField(
        _("points expiring next month"),
        default=False,
        help_text=_("Only members with points that expire in the month after the mail is sent."),
    )

    # The sending.
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True, db_index=True)
    # The month of a monthly reminder of expiring points (its first day); one reminder per programme and month.
    reminder_month = models.DateField(_("reminder of the month"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("sending started at"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("sending finished at"), null=True, blank=True, editable=False)
    # Written by every batch: a sending not heard from for a while is taken up again (mailing.services).
    progress_at = models.DateTimeField(_("progress at"), null=True, blank=True, editable=False)
    # The highest member id a batch has handled: the next batch reads the members after it.
    cursor = models.BigIntegerField(default=0, editable=False)
    target_count = models.PositiveIntegerField(_("members reached when sending began"), default=0, editable=False)
    sent_count = models.PositiveIntegerField(_("sent"), default=0, editable=False)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0, editable=False)
    failed_count = models.PositiveIntegerField(_("failed"), default=0, editable=False)

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at", "-id"]
        permissions = [("send_mailing", _("Can send mailings to members"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=[purpose.value for purpose in MAIL_PURPOSES]), name="mailing_purpose_is_mail"
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(send_at__isnull=False), name="mailing_scheduled_has_send_at"
            ),
            models.UniqueConstraint(
                fields=["programme", "reminder_month"],
                condition=Q(reminder_month__isnull=False),
                name="mailing_one_reminder_per_month",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    """A member's mail of a mailing: claimed (pending) just before it is sent, then what happened. One per
    mailing and member, which the database enforces: a second run of the sending finds the row and mails no
    one twice. A row left pending means the worker stopped between the claim and the outcome; it is never
    sent again (at most once: a duplicate marketing mail is worse than a missing one)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Claimed; outcome unknown")
        SENT = "sent", pgettext_lazy("mail", "Sent")
        SKIPPED_NO_CONSENT = "skipped_no_consent", _("Skipped: no consent when sending")
        SKIPPED_NO_EMAIL = "skipped_no_email", _("Skipped: no e-mail address")
        FAILED = "failed", _("Failed")

    SKIPPED = (Status.SKIPPED_NO_CONSENT, Status.SKIPPED_NO_EMAIL)

    mailing = models.ForeignKey(Mailing, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("mailing"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    at = models.DateTimeField(_("at"))
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("send log")
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["mailing", "member"], name="delivery_once_per_member")]
        indexes = [models.Index(fields=["mailing", "status"], name="delivery_mailing_status")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} #{self.pk}"


class ExpiryReminder(models.Model):
    """A programme's monthly mail to members whose points expire next month (mail magazine consent), sent on
    the first of each month while active (the django-q2 schedule "mailing-expiry-reminders")."""

    programme = models.OneToOneField(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    active = models.BooleanField(_("active"), default=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("expiry reminder")
        verbose_name_plural = _("expiry reminders")

    def __str__(self) -> str:
        return str(self.programme)
