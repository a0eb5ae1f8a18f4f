import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stores.models import Terminal


class IdempotencyRecord(models.Model):
    """A terminal's write request and, once it is done, its answer byte for byte.

    A retry with the same key and body gets the stored answer; the record is
    written in the same transaction as the ledger entries it reports.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+", verbose_name=_("terminal"))
    key = models.CharField(_("idempotency key"), max_length=100)
    request_hash = models.CharField(_("request hash"), max_length=64)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    body = models.BinaryField(_("answer"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["terminal", "key"], name="idempotency_key_per_terminal")]
        indexes = [models.Index(fields=["started_at"], name="idempotency_started")]

    def __str__(self) -> str:
        return f"{self.terminal_id}:{self.key}"


class BatchUpload(models.Model):
    """An offline upload too large to apply within one request: stored as sent, answered 202 with its
    batch id, applied in the background in parts (BatchPart), and read back from its status URL.

    Stored in the transaction that stores its Idempotency-Key's answer (the 202), so a re-sent upload
    finds the same batch and nothing is queued twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    batch_id = models.UUIDField(_("batch id"), default=uuid.uuid4, unique=True, editable=False)
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+", verbose_name=_("terminal"))
    key = models.CharField(_("idempotency key"), max_length=100)
    body = models.BinaryField(_("request body"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    items = models.PositiveIntegerField(_("items"))
    applied_so_far = models.PositiveIntegerField(_("items answered so far"), default=0)
    answer = models.BinaryField(_("answer"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("offline batch")
        verbose_name_plural = _("offline batches")
        constraints = [models.UniqueConstraint(fields=["terminal", "key"], name="batch_upload_key_per_terminal")]

    def __str__(self) -> str:
        return str(self.batch_id)


class BatchPart(models.Model):
    """The items of an upload that one worker applies: every item of a member (all their cards) and the
    voids of their purchases, so that they are applied in order of time, by one task.

    `attempts` fences a run: a run that finds it changed (its part queued again after it stalled) stops.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    upload = models.ForeignKey(BatchUpload, on_delete=models.CASCADE, related_name="parts", verbose_name=_("upload"))
    number = models.PositiveSmallIntegerField(_("number"))
    positions = models.JSONField(_("positions of its items"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    applied_so_far = models.PositiveIntegerField(_("items answered so far"), default=0)
    results = models.BinaryField(_("results"), null=True, blank=True)
    progressed_at = models.DateTimeField(_("last progress at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("offline batch part")
        verbose_name_plural = _("offline batch parts")
        constraints = [models.UniqueConstraint(fields=["upload", "number"], name="batch_part_number_per_upload")]

    def __str__(self) -> str:
        return f"{self.upload_id}:{self.number}"
