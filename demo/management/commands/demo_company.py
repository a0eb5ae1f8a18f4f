from django.core.management.base import BaseCommand, CommandError

from demo.company import demo_company
from points.models import Programme


class Command(BaseCommand):
    help = (
        "The demo's second programme: a department store's own card with ranks at three of the street's "
        "stores, a campaign whose points only its stores take, purchases and points sold (once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--street", help="the street programme's code (default: the first programme)")

    def handle(self, *args, street=None, **options):
        programmes = Programme.objects.order_by("code")
        found = programmes.filter(code=street).first() if street else programmes.first()
        if found is None:
            raise CommandError("No such programme: run `manage.py seed_demo` first, or name one with --street.")
        result = demo_company(street=found)
        ranks = ", ".join(f"{name} {count}" for name, count in result.ranked.items()) or "none yet"
        self.stdout.write(f"{result.programme} ({result.programme.code}) at {result.stores} stores; ranks: {ranks}")
