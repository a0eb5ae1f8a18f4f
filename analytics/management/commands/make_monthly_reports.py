from django.core.management.base import BaseCommand, CommandError

from analytics.monthly.services import MonthlyReportError, monthly_reports_make
from billing.periods import parse_period
from points.models import Programme


class Command(BaseCommand):
    help = (
        "Make a month's monthly reports (the secretariat's and those of the merchants who asked for one) and "
        "mail each once: make_monthly_reports 2026-10 [--programme CODE] [--no-mail]. A report already made is "
        "kept as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("month", help="the programme's month (billing period), YYYY-MM")
        parser.add_argument("--programme", help="a programme's code (default: every active programme)")
        parser.add_argument("--no-mail", action="store_true", help="make the reports without mailing them")

    def handle(self, *args, month, programme=None, no_mail=False, **options):
        try:
            year, number = parse_period(month)
        except ValueError:
            raise CommandError(f"not a month: {month!r} (YYYY-MM)") from None
        programmes = Programme.objects.filter(is_active=True).order_by("code")
        if programme:
            programmes = Programme.objects.filter(code=programme)
            if not programmes:
                raise CommandError(f"no programme {programme!r}")
        for chosen in programmes:
            try:
                run = monthly_reports_make(programme=chosen, year=year, month=number, send=not no_mail)
            except MonthlyReportError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(
                self.style.SUCCESS(f"{chosen.code} {year}-{number:02d}: {len(run.made)} reports, {run.mailed} mailed")
            )
