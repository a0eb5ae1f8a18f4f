"""Bringing a programme's old system over: its members, cards, points (each lot with its original earning
and expiry dates) and ranks, written in one transaction or not at all, and rolled back whole while nothing
has touched them.

The orchestration above the apps (as lifecycle's is): members and cards through members.services' bulk
helpers (encrypted and indexed as one by one), the opening balances through points.services.imports (an
`import` entry and its lot per lot of the old system), the ranks as the nightly evaluation writes them (a
rank record per member saying where the rank came from). `legacy_import` and `legacy_rollback` write their
own audit rows; `batch_*` run them for the admin's background jobs, with the batch's status and progress.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import time
import uuid

from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from audit.models import AuditEvent
from audit.services import audit_record
from common.bulk import Rows
from common.formatting import date_text, datetime_text
from legacy.checking import Plan, Rejected, legacy_plan, legacy_plan_recheck
from legacy.formats import FILE_NAMES
from legacy.models import ImportBatch, ImportFile, LegacyMember
from legacy.report import ledger_figures, plan_report, rejection_report
from members.models import Member
from members.services import cards_create_many, member_set_personal_data, members_create_many, members_erase_many
from points.models import Programme
from points.services.imports import points_import_opening, points_import_reverse
from ranks.models import MemberRank, Rank, RankRecord

logger = logging.getLogger(__name__)

# What the ledger, the cards and the rank history say of an import and its rollback (stored, as the ledger's
# other reasons are, in the secretariat's language).
IMPORT_REASON = "旧システムから移行"
ROLLBACK_REASON = "旧システムからの移行を取消"


class RollbackRefused(Exception):
    """The batch cannot be rolled back; the message says why."""


class NotReconciled(Exception):
    """What the ledger holds after writing differs from the files: the import is undone (never expected)."""


def _silent(*args, **kwargs) -> None:
    pass


# --- the import ------------------------------------------------------------------------------------------------


def legacy_check(*, programme: Programme, source, progress=None) -> dict:
    """A dry run: check every file and tell what the import would create, reconciled against the files' own
    totals. Writes nothing; raises Rejected with every problem."""
    plan = legacy_plan(programme=programme, source=source, progress=progress)
    return plan_report(plan)


def legacy_import(*, programme: Programme, source, staff=None, batch: ImportBatch | None = None, progress=None):
    """Check the files and write everything they hold in one transaction, or nothing (Rejected names every
    problem). Returns the batch (made here when not given), imported, with its report."""
    progress = progress or _silent
    plan = legacy_plan(programme=programme, source=source, progress=progress)
    with transaction.atomic(durable=True):
        # One import of a programme at a time: the second waits, then finds the first's members known.
        Programme.objects.select_for_update().filter(pk=programme.pk).first()
        progress("checking against the database")
        legacy_plan_recheck(plan)
        if batch is None:
            batch = ImportBatch.objects.create(
                programme=programme, status=ImportBatch.Status.IMPORTING, source=str(source)[:300], created_by=staff
            )
        _write(plan, batch, staff, progress)
        progress("reconciling")
        report = plan_report(plan, created=ledger_figures(batch))
        if not report["reconciled"]:
            raise NotReconciled(json.dumps(report, ensure_ascii=False)[:2000])
        counts = report["counts"]
        now = timezone.now()
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.IMPORTED,
            report=report,
            members=counts["members"],
            cards=counts["cards"],
            lots=counts["lots"],
            points=counts["points"],
            ranks=counts["ranks"],
            imported_by=staff if getattr(staff, "pk", None) else None,
            imported_at=now,
            progress={"phase": "imported", "done": counts["lots"], "total": counts["lots"], "at": now.isoformat()},
        )
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=batch,
            summary=gettext_noop("brought over from the old system"),
            detail={key: counts[key] for key in ("members", "cards", "lots", "points", "ranks")},
        )
    batch.refresh_from_db()
    return batch


def _write(plan: Plan, batch: ImportBatch, staff, progress) -> None:
    today = plan.today
    midnight = _Midnights()
    members = [_member(row, midnight) for row in plan.members]
    progress("writing members", 0, len(members))
    members_create_many(members)
    Rows(LegacyMember, ("batch_id", "member_id", "legacy_id")).insert(
        (batch.pk, member.pk, row.legacy_id) for member, row in zip(members, plan.members, strict=True)
    )
    progress("writing cards", 0, len(plan.cards))
    card_ids = cards_create_many(
        cards=[(members[row.member].pk, row.card_type, row.number, row.status) for row in plan.cards],
        note=IMPORT_REASON,
        staff=staff,
    )
    lots = plan.lots
    total = len(lots)
    progress("writing points", 0, total)

    def opening():
        fromordinal = datetime.date.fromordinal
        prefix = f"legacy:{batch.pk}:"
        for member, card, store, points, earned, expires, row in zip(
            lots.member, lots.card, lots.store, lots.points, lots.earned, lots.expires, lots.row, strict=True
        ):
            yield (
                members[member].pk,
                card_ids[card] if card >= 0 else None,
                store or None,
                points,
                midnight(earned),
                fromordinal(expires),
                f"{prefix}{row}",
            )

    points_import_opening(
        programme=plan.programme,
        member_ids=[member.pk for member in members],
        lots=opening(),
        operation=batch.operation,
        reason=IMPORT_REASON,
        staff=staff,
        progress=lambda done: progress("writing points", done, total),
    )
    progress("writing ranks", 0, len(plan.ranks))
    _ranks_write(plan, members, today)


class _Midnights:
    """The start of a Tokyo day, from its ordinal (a file of a million lots has a few thousand days)."""

    def __init__(self):
        self.known: dict[int, datetime.datetime] = {}

    def __call__(self, ordinal: int) -> datetime.datetime:
        found = self.known.get(ordinal)
        if found is None:
            day = datetime.date.fromordinal(ordinal)
            found = self.known[ordinal] = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        return found


def _member(row, midnight: _Midnights) -> Member:
    member = Member(**row.attributes, **row.consents)
    if row.registering:
        member.status = Member.Status.ACTIVE
        member.registered_at = midnight(row.registered_on.toordinal()) if row.registered_on else timezone.now()
        member.terms_version = row.terms_version
        member.terms_agreed_at = member.registered_at
    return member_set_personal_data(member=member, save=False, **row.personal)


def _ranks_write(plan: Plan, members: list[Member], today: datetime.date) -> None:
    """Each ranked member's rank now, and a record saying it came from the old system and until when it holds.

    The nightly evaluation keeps the rank until that day: the member counts as below the rank only from the day
    after (`below_since`), so a downgrade, and any grace the programme gives before one, begins there
    (ranks.services.ranks_evaluate)."""
    day = datetime.timedelta(days=1)
    ranks, records = [], []
    for row in plan.ranks:
        member_id = members[row.member].pk
        ranks.append(
            MemberRank(
                member_id=member_id,
                programme=plan.programme,
                rank=row.rank,
                since=today,
                below_since=row.valid_until + day,
                valid_until=row.valid_until,
            )
        )
        reason = f"{IMPORT_REASON}（有効期限 {date_text(row.valid_until)}）"
        records.append(
            RankRecord(
                member_id=member_id,
                programme=plan.programme,
                rank_before=None,
                rank=row.rank,
                effective_on=today,
                purchases_yen=0,
                reason=reason,
            )
        )
    MemberRank.objects.bulk_create(ranks, batch_size=5_000)
    RankRecord.objects.bulk_create(records, batch_size=5_000)


# --- the rollback ------------------------------------------------------------------------------------------


def legacy_rollback(*, batch: ImportBatch, staff, reason: str) -> ImportBatch:
    """Take a whole import back, while nothing has touched it: every opening balance reversed (its lot taken
    back in full), the ranks it gave recorded as taken back, its members' personal data erased and their
    memberships ended, their cards blocked and their numbers freed for a corrected import. Refused, with the
    reason and nothing written, once any of its points was used, expired or moved, or its members have done
    anything since."""
    reason = (reason or "").strip()
    if not reason:
        raise RollbackRefused(_("Give a reason for the rollback."))
    with transaction.atomic(durable=True):
        batch = ImportBatch.objects.select_for_update().select_related("programme").get(pk=batch.pk)
        if batch.status not in (ImportBatch.Status.IMPORTED, ImportBatch.Status.ROLLING_BACK):
            raise RollbackRefused(_("Only an imported batch can be rolled back."))
        members = LegacyMember.objects.filter(batch=batch).values("member_id")
        ended = list(
            Member.objects.filter(pk__in=members, status=Member.Status.WITHDRAWN).values_list("pseudonym", flat=True)[
                :5
            ]
        )
        if ended:
            raise RollbackRefused(
                _("The import cannot be rolled back: members it brought over were merged or withdrew since (%(who)s).")
                % {"who": "、".join(ended)}
            )
        undo = uuid.uuid4()
        text = f"{ROLLBACK_REASON}: {reason}"[:300]
        _reversed, touches = points_import_reverse(
            operation=batch.operation, undo_operation=undo, staff=staff, reason=text
        )
        if touches:
            raise RollbackRefused(_touched_message(touches))
        member_ids = list(LegacyMember.objects.filter(batch=batch).values_list("member_id", flat=True))
        _ranks_take_back(batch.programme, member_ids)
        members_erase_many(member_ids=member_ids, note=ROLLBACK_REASON, staff=staff, release_card_numbers=True)
        now = timezone.now()
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.ROLLED_BACK,
            undo_operation=undo,
            rolled_back_by=staff if getattr(staff, "pk", None) else None,
            rolled_back_at=now,
            rollback_reason=reason[:300],
            progress={"phase": "rolled back", "at": now.isoformat()},
        )
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=batch,
            summary=gettext_noop("import from the old system rolled back"),
            detail={"reason": reason, "members": len(member_ids)},
        )
    batch.refresh_from_db()
    return batch


def _touched_message(touches) -> str:
    parts = []
    if touches.used:
        parts.append(
            ngettext(
                "%(count)s use of its lots (a spend, an expiry, a transfer or an exchange)",
                "%(count)s uses of its lots (a spend, an expiry, a transfer or an exchange)",
                touches.used,
            )
            % {"count": f"{touches.used:,}"}
        )
    if touches.other_entries:
        parts.append(
            ngettext(
                "%(count)s transaction of its members",
                "%(count)s transactions of its members",
                touches.other_entries,
            )
            % {"count": f"{touches.other_entries:,}"}
        )
    examples = "、".join(f"{touch.member} {datetime_text(touch.at)} {touch.kind}" for touch in touches.sample)
    return _("The import cannot be rolled back: since it was made there were %(what)s (for example %(examples)s).") % {
        "what": "、".join(parts),
        "examples": examples,
    }


def _ranks_take_back(programme: Programme, member_ids: list[int]) -> None:
    """The ranks the import gave end; the history says so (the member falls to the ladder's lowest rank)."""
    base = Rank.objects.filter(programme=programme).order_by("threshold_yen").first()
    today = timezone.localdate()
    for start in range(0, len(member_ids), 5_000):
        rows = MemberRank.objects.filter(programme=programme, member_id__in=member_ids[start : start + 5_000])
        current = list(rows.values_list("member_id", "rank_id"))
        RankRecord.objects.bulk_create(
            (
                RankRecord(
                    member_id=member_id,
                    programme=programme,
                    rank_before_id=rank_id,
                    rank=base,
                    effective_on=today,
                    purchases_yen=0,
                    reason=ROLLBACK_REASON,
                )
                for member_id, rank_id in current
            ),
            batch_size=5_000,
        )
        rows.delete()


# --- uploads and background jobs (the admin) -------------------------------------------------------------------


def legacy_upload(*, programme: Programme, files: dict, staff) -> ImportBatch:
    """A new batch holding the uploaded files (by name: members.csv, ...), waiting for its check."""
    unknown = set(files) - set(FILE_NAMES)
    if unknown:
        raise ValueError(f"not files of an import: {sorted(unknown)}")
    with transaction.atomic():
        batch = ImportBatch.objects.create(programme=programme, source=", ".join(sorted(files)), created_by=staff)
        for name, upload in files.items():
            data = upload.read()
            stored = ImportFile(batch=batch, name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
            stored.file.save(f"{batch.operation.hex}-{name}", ContentFile(data), save=False)
            stored.save()
    return batch


class StoredSource:
    """A batch's uploaded files."""

    def __init__(self, batch: ImportBatch):
        self.batch = batch

    def __str__(self) -> str:
        return self.batch.source

    def read(self, name: str) -> bytes | None:
        stored = ImportFile.objects.filter(batch=self.batch, name=name).exclude(file="").first()
        if stored is None:
            return None
        with stored.file.open("rb") as handle:
            return handle.read()


def _forget_files(batch: ImportBatch) -> None:
    """The uploaded files hold personal data in clear: gone once they are imported or refused."""
    for stored in ImportFile.objects.filter(batch=batch).exclude(file=""):
        stored.file.delete(save=False)
        ImportFile.objects.filter(pk=stored.pk).update(file="")


def _claim(batch_id: int, before, after) -> ImportBatch | None:
    if not ImportBatch.objects.filter(pk=batch_id, status__in=before).update(status=after):
        return None
    return ImportBatch.objects.select_related("programme").get(pk=batch_id)


def batch_check(*, batch_id: int) -> ImportBatch | None:
    """The dry run of an uploaded batch (a background job): checked, with its report, or rejected."""
    batch = _claim(batch_id, [ImportBatch.Status.UPLOADED], ImportBatch.Status.CHECKING)
    if batch is None:
        return None
    progress = BatchProgress(batch)
    try:
        report = legacy_check(programme=batch.programme, source=StoredSource(batch), progress=progress)
    except Rejected as rejected:
        _finish(batch, ImportBatch.Status.REJECTED, report=rejection_report(rejected.problems), phase="rejected")
        _forget_files(batch)
    except Exception as error:
        _finish(batch, ImportBatch.Status.FAILED, phase=f"failed: {error}")
        raise
    else:
        _finish(batch, ImportBatch.Status.CHECKED, report=report, phase="checked")
    finally:
        progress.close()
    batch.refresh_from_db()
    return batch


def batch_import(*, batch_id: int, staff) -> ImportBatch | None:
    """Import a checked batch (a background job). Files that no longer pass (the database changed since the
    check) reject it; an unexpected failure leaves it failed, with nothing written, to be run again."""
    batch = _claim(batch_id, [ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED], ImportBatch.Status.IMPORTING)
    if batch is None:
        return None
    progress = BatchProgress(batch)
    try:
        legacy_import(
            programme=batch.programme, source=StoredSource(batch), staff=staff, batch=batch, progress=progress
        )
    except Rejected as rejected:
        _finish(batch, ImportBatch.Status.REJECTED, report=rejection_report(rejected.problems), phase="rejected")
        _forget_files(batch)
    except Exception as error:
        _finish(batch, ImportBatch.Status.FAILED, phase=f"failed: {error}")
        raise
    else:
        _forget_files(batch)
    finally:
        progress.close()
    batch.refresh_from_db()
    return batch


def batch_rollback(*, batch_id: int, staff, reason: str) -> ImportBatch | None:
    """Roll an imported batch back (a background job); a refusal leaves it imported, saying why."""
    batch = _claim(batch_id, [ImportBatch.Status.IMPORTED], ImportBatch.Status.ROLLING_BACK)
    if batch is None:
        return None
    BatchProgress(batch)("rolling back")
    try:
        legacy_rollback(batch=batch, staff=staff, reason=reason)
    except RollbackRefused as refused:
        _finish(batch, ImportBatch.Status.IMPORTED, phase=f"refused: {refused}")
    except Exception as error:
        _finish(batch, ImportBatch.Status.IMPORTED, phase=f"failed: {error}")
        raise
    batch.refresh_from_db()
    return batch


def _finish(batch: ImportBatch, status: str, *, phase: str, report: dict | None = None) -> None:
    fields = {"status": status, "progress": {"phase": phase[:1000], "at": timezone.now().isoformat()}}
    if report is not None:
        fields["report"] = report
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)


class BatchProgress:
    """How far a batch's job has got, where its page reads it at once: written in autocommit outside the
    import's transaction, and inside it through a connection of its own (PostgreSQL; SQLite has one writer,
    so there the page learns the phases of the transaction at its end). At most once a second per phase."""

    INTERVAL = 1.0
    UPDATE = (
        "UPDATE legacy_importbatch SET progress = %s::jsonb "
        "WHERE id IN (SELECT id FROM legacy_importbatch WHERE id = %s FOR UPDATE SKIP LOCKED)"
    )

    def __init__(self, batch: ImportBatch):
        self.batch_id = batch.pk
        self.phase = None
        self.last = 0.0
        self.side = None

    def __call__(self, phase: str, done: int = 0, total: int = 0) -> None:
        moment = time.monotonic()
        if phase == self.phase and moment - self.last < self.INTERVAL:
            return
        self.phase, self.last = phase, moment
        progress = {"phase": phase, "done": done, "total": total, "at": timezone.now().isoformat()}
        logger.info("import %s: %s %s/%s", self.batch_id, phase, done, total)
        if not connection.in_atomic_block:
            ImportBatch.objects.filter(pk=self.batch_id).update(progress=progress)
            return
        if connection.vendor != "postgresql":
            return
        if self.side is None:
            self.side = connections.create_connection("default")
        # SKIP LOCKED: never wait for the batch's row (the import's own transaction may hold it).
        with self.side.cursor() as cursor:
            cursor.execute(self.UPDATE, [json.dumps(progress), self.batch_id])

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None
