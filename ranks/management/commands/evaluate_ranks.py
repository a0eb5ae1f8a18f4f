import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ranks.models import RankPolicy
from ranks.services import ranks_evaluate


class Command(BaseCommand):
    help = (
        "Place every member on their programme's rank ladder, as the nightly schedule does; "
        "--dry-run tells what would change without changing it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--programme", help="programme code (default: every programme with a rank rule)")
        parser.add_argument("--date", help="YYYY-MM-DD: evaluate as at that day's midnight (default: today)")
        parser.add_argument("--dry-run", action="store_true", help="tell what would change, change nothing")

    def handle(self, *args, programme=None, date=None, dry_run=False, **options):
        try:
            day = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError("Give the date as YYYY-MM-DD.") from None
        policies = RankPolicy.objects.select_related("programme").order_by("programme__code")
        if programme:
            policies = policies.filter(programme__code=programme)
            if not policies.exists():
                raise CommandError(f"No rank rule for programme {programme}.")
        for policy in policies:
            changes = ranks_evaluate(programme=policy.programme, day=day, dry_run=dry_run)
            verb = "would change" if dry_run else "changed"
            self.stdout.write(f"{policy.programme.code} {day}: {len(changes)} ranks {verb}")
            for change in changes:
                before = change.rank_before.name if change.rank_before else "—"
                self.stdout.write(f"  member {change.member_id}: {before} → {change.rank.name} ({change.reason})")
