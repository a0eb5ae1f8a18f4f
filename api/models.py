from django.db import models
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
