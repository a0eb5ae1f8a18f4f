"""A programme's members, cards, points and ranks brought over from its old system: each import is a batch,
which can be checked (a dry run), written, and rolled back whole while nothing has touched it."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Programme


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for its check")
        CHECKING = "checking", _("Checking")
        REJECTED = "rejected", _("Rejected")
        CHECKED = "checked", _("Checked, ready to import")
        IMPORTING = "importing", _("Importing")
        IMPORTED = "imported", _("Imported into the ledger")
        FAILED = "failed", _("Failed")
        ROLLING_BACK = "rolling_back", _("Rolling back")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    # While one of these, a job is (or should be) working on the batch; the page reloads itself.
    RUNNING = (Status.UPLOADED, Status.CHECKING, Status.IMPORTING, Status.ROLLING_BACK)

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    source = models.CharField(_("source"), max_length=300, blank=True)
    # Every ledger entry of the import shares this operation id; its rollback's entries share undo_operation.
    operation = models.UUIDField(_("operation"), default=uuid.uuid4, unique=True, editable=False)
    undo_operation = models.UUIDField(_("rollback operation"), null=True, blank=True, editable=False)
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    # The dry run's or the import's report: counts, the reconciliation, and the problems of a rejected file.
    report = models.JSONField(_("report"), default=dict, blank=True)
    members = models.PositiveIntegerField(_("members"), default=0)
    cards = models.PositiveIntegerField(_("cards"), default=0)
    lots = models.PositiveIntegerField(_("point lots"), default=0)
    points = models.BigIntegerField(_("points"), default=0)
    ranks = models.PositiveIntegerField(_("ranks"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rolled back by"),
    )
    rolled_back_at = models.DateTimeField(_("rolled back at"), null=True, blank=True)
    rollback_reason = models.CharField(_("reason for the rollback"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("import from an old system")
        verbose_name_plural = _("imports from an old system")
        ordering = ["-created_at", "-id"]
        permissions = [("run_legacy_import", _("Can bring over an old system's members and points"))]
        indexes = [models.Index(fields=["programme", "status"], name="importbatch_programme_status")]

    def __str__(self) -> str:
        return _("Import %(id)s into %(programme)s") % {"id": self.pk, "programme": self.programme.code}


class ImportFile(models.Model):
    """A file uploaded for a batch, kept until the batch is imported or rejected (it holds personal data in
    clear); its name, size and SHA-256 stay on record."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="files", verbose_name=_("import"))
    name = models.CharField(_("file"), max_length=40)
    file = models.FileField(_("stored file"), upload_to="legacy/%Y/%m/", blank=True)
    size = models.PositiveBigIntegerField(_("bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")
        constraints = [models.UniqueConstraint(fields=["batch", "name"], name="importfile_once_per_batch")]

    def __str__(self) -> str:
        return self.name


class LegacyMember(models.Model):
    """Which member an old system's member number became: for finding a member by their old number, and for
    the rollback."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="+", verbose_name=_("import"))
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    legacy_id = models.CharField(_("old member number"), max_length=40, db_index=True)

    class Meta:
        verbose_name = _("member brought over")
        verbose_name_plural = _("members brought over")

    def __str__(self) -> str:
        return self.legacy_id
