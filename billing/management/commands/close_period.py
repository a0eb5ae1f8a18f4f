"""`manage.py close_period 2026-10`: close a billing period and print its tie-out."""

from django.core.management.base import BaseCommand, CommandError

from billing.periods import parse_period
from billing.services import CloseError, period_close
from points.models import Programme


class Command(BaseCommand):
    help = "Close a billing period (YYYY-MM) for a programme and print the tie-out; exits non-zero if it cannot."

    def add_arguments(self, parser):
        parser.add_argument("period", help="the period, e.g. 2026-10")
        parser.add_argument("--programme", help="programme code (needed when there are several)")

    def handle(self, *args, period, programme, **options):
        try:
            year, month = parse_period(period)
        except ValueError:
            raise CommandError(f"{period!r} is not a period: give YYYY-MM, e.g. 2026-10") from None
        programmes = Programme.objects.filter(billing_settings__isnull=False)
        if programme:
            programmes = programmes.filter(code=programme)
        found = list(programmes[:2])
        if len(found) != 1:
            raise CommandError("name the programme with --programme CODE" if found else "no programme to close")
        try:
            result = period_close(programme=found[0], year=year, month=month)
        except CloseError as error:
            raise CommandError(str(error)) from None
        tie = result.tie_out
        verb = "closed" if result.created else "already closed"
        self.stdout.write(
            f"{found[0].code} {year}-{month:02d} {verb}: {result.statements} statements, "
            f"{result.documents_rendered} PDFs rendered now"
        )
        self.stdout.write("tie-out:")
        self.stdout.write(f"  points on statements   {tie.get('statement_points')}")
        self.stdout.write(f"  points in the ledger   {tie.get('ledger_points_at_stores')}")
        self.stdout.write(f"  ledger movement        {tie.get('ledger_movement'):+,}")
        change = tie.get("outstanding_after", 0) - tie.get("outstanding_before", 0)
        self.stdout.write(
            f"  outstanding points     {tie.get('outstanding_before'):,} -> "
            f"{tie.get('outstanding_after'):,} ({change:+,})"
        )
        self.stdout.write(f"  net of statements      {tie.get('net_yen'):+,} yen (tax {tie.get('tax_yen'):,} yen)")
        self.stdout.write("  ties out" if tie.get("ties_out") else "  DOES NOT TIE OUT")
        if not tie.get("ties_out"):
            raise CommandError("the close does not tie out")
