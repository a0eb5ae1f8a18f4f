import datetime

from django.core.management.base import BaseCommand

from analytics.services import analytics_refresh, ledger_first_day


class Command(BaseCommand):
    help = (
        "Refresh the analytics summaries from the ledger up to today: by default from the day after the last "
        "final one (everything on the first run); --from DATE rebuilds from that day, --all from the first entry."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", type=datetime.date.fromisoformat, help="first day, YYYY-MM-DD")
        parser.add_argument("--all", action="store_true", help="rebuild from the ledger's first day")

    def handle(self, *args, first=None, all=False, **options):
        if all:
            first = ledger_first_day()
            if first is None:
                self.stdout.write("the ledger is empty: nothing to summarise")
                return
        done = analytics_refresh(first_day=first)
        self.stdout.write(
            self.style.SUCCESS(f"summaries refreshed from {done.first_day} to {done.last_day} ({done.seconds:.2f} s)")
        )
