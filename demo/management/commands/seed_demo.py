from django.core.management.base import BaseCommand, CommandError

from points.models import Programme
from points.seeding import SeedResult, seed_demo


class Command(BaseCommand):
    help = (
        "Load a demo shopping street: about 170 stores with terminals, members with cards, and months of "
        "purchases, spending, adjustments, voids and card replacements ending today. A second run adds "
        "more members to the same street."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=5000, help="members to add (default 5000)")
        parser.add_argument("--months", type=int, default=6, help="months of history ending today (default 6)")
        parser.add_argument("--stores", type=int, default=170, help="stores on a new street (default 170)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if any programme exists (used by `make run`)"
        )

    def handle(self, *args, members, months, stores, seed, if_empty, **options):
        if members < 0 or not 1 <= months <= 120 or not 1 <= stores <= 9999:
            raise CommandError("Use --members >= 0, --months between 1 and 120 and --stores between 1 and 9999.")
        if if_empty and Programme.objects.exists():
            self.stdout.write("A programme exists already; nothing seeded.")
            return
        shown = 0

        def progress(result: SeedResult) -> None:
            # About every tenth of a large load, so a long run shows it is alive.
            nonlocal shown
            tenth = result.members * 10 // members if members else 10
            if options["verbosity"] >= 1 and members >= 20_000 and tenth > shown:
                shown = tenth
                self.stderr.write(
                    f"  {result.members:,}/{members:,} members, {result.entries:,} entries, {result.seconds:.0f} s"
                )

        result = seed_demo(members=members, months=months, stores=stores, seed=seed, progress=progress)
        street = "new street" if result.created_street else "existing street"
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(result.kinds.items()))
        self.stdout.write(
            f"{result.programme}, {street}: {result.stores} stores, {result.terminals} terminals\n"
            f"Members: {result.members:,} ({result.registered:,} registered), cards: {result.cards:,} "
            f"({result.replaced:,} replaced), accounts: {result.accounts:,}\n"
            f"Ledger: {result.entries:,} entries ({kinds}), {result.lots:,} lots, {result.lot_uses:,} lot uses"
        )
        self.stdout.write(
            self.style.SUCCESS(f"Seeded in {result.seconds:.1f} s: {result.entries_per_second:,.0f} entries per second")
        )
