from django.core.management.base import BaseCommand, CommandError

from demo.promotions import demo_promotions
from points.models import Programme


class Command(BaseCommand):
    help = (
        "Demo promotions: a running campaign, coupon templates with coupons issued, a rally with stamps, "
        "and exchanges with a reservation, made through the services and the till (once per programme)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--programme", help="programme code (default: the first programme)")

    def handle(self, *args, programme=None, **options):
        programmes = Programme.objects.order_by("code")
        found = programmes.filter(code=programme).first() if programme else programmes.first()
        if found is None:
            raise CommandError("No such programme: run `manage.py seed_demo` first, or name one with --programme.")
        result = demo_promotions(programme=found)
        self.stdout.write(
            f"{found}: {result.campaigns} campaigns running, {result.coupon_templates} coupon templates "
            f"({result.coupons} coupons issued), {result.stamps} rally stamps, {result.exchanges} exchanges "
            f"({result.reservations} reserved)"
        )
