"""manage.py import_legacy DIR --programme CODE [--dry-run]: bring a programme's old system over from the CSV
files in DIR (docs/imports.md), or, with --dry-run, check them and tell what would be created, reconciled
against the files' own totals, writing nothing."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from legacy.checking import NO_RANK, Rejected
from legacy.formats import DirectorySource
from legacy.services import legacy_check, legacy_import
from points.models import Programme


class Command(BaseCommand):
    help = (
        "Bring a programme's members, cards, point lots and ranks over from an old system's CSV files "
        "(members.csv, cards.csv, lots.csv, ranks.csv, totals.csv in DIR); --dry-run checks and reconciles only."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="the directory holding the files")
        parser.add_argument("--programme", required=True, help="programme code")
        parser.add_argument("--dry-run", action="store_true", help="check and reconcile, write nothing")

    def handle(self, *args, directory, programme, dry_run=False, **options):
        self.verbosity = options.get("verbosity", 1)
        self.started = time.perf_counter()
        path = Path(directory)
        if not path.is_dir():
            raise CommandError(_("%(path)s is not a directory.") % {"path": directory})
        found = Programme.objects.filter(code=programme).first()
        if found is None:
            raise CommandError(_("No programme with the code %(code)s.") % {"code": programme})
        started = time.perf_counter()
        try:
            if dry_run:
                report = legacy_check(programme=found, source=DirectorySource(path), progress=self.progress)
            else:
                batch = legacy_import(programme=found, source=DirectorySource(path), progress=self.progress)
                report = batch.report
        except Rejected as rejected:
            for line in rejected.problems.lines():
                self.stderr.write(line)
            raise CommandError(
                _("The files were refused (%(count)s problems); nothing was written.")
                % {"count": f"{rejected.problems.count:,}"}
            ) from None
        self.print_report(report)
        seconds = time.perf_counter() - started
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written (%(seconds).1f s).") % {"seconds": seconds})
        else:
            self.stdout.write(_("Imported as batch %(id)s in %(seconds).1f s.") % {"id": batch.pk, "seconds": seconds})

    def progress(self, phase: str, done: int = 0, total: int = 0) -> None:
        if self.verbosity >= 2:
            elapsed = time.perf_counter() - self.started
            self.stderr.write(f"{elapsed:7.1f} s  {phase}" + (f" {done:,}/{total:,}" if total else ""))

    def print_report(self, report: dict) -> None:
        counts = report["counts"]
        self.stdout.write(
            _(
                "Members %(members)s (registered %(registered)s), cards %(cards)s, point lots %(lots)s, "
                "points %(points)s, ranks %(ranks)s"
            )
            % {key: f"{value:,}" for key, value in counts.items()}
        )
        made = _("would be created") if report["dry_run"] else _("created")
        for title, rows, label in (
            (_("Points by month of expiry"), report["by_month"], lambda key: key),
            (_("Points by rank"), report["by_rank"], lambda key: key if key != NO_RANK else _("no rank")),
        ):
            self.stdout.write(title)
            for row in rows + ([report["total"] | {"key": _("total")}] if rows is report["by_month"] else []):
                line = _(
                    "%(which)s: in the files %(count)s / %(points)s pt; %(made)s %(made_count)s / %(made_points)s pt"
                ) % {
                    "which": label(row["key"]),
                    "count": f"{row['count']:,}",
                    "points": f"{row['points']:,}",
                    "made": made,
                    "made_count": f"{row['made_count']:,}",
                    "made_points": f"{row['made_points']:,}",
                }
                if row.get("control_points") is not None:
                    line += _("; totals.csv %(points)s pt") % {"points": f"{row['control_points']:,}"}
                if not row["matches"]:
                    line += "  ← " + _("does not match")
                self.stdout.write("  " + line)
        self.stdout.write(_("Reconciled.") if report["reconciled"] else _("NOT reconciled."))
