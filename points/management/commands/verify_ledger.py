import time

from django.core.management.base import BaseCommand, CommandError

from points.services.verification import points_verify_ledger
from points.verification import reconciliation_problems, rule_count


class Command(BaseCommand):
    help = (
        "Check every invariant of the point ledger, from the last verified checkpoint (what came after it, the "
        "accounts and the open lots) or, with --full, over the whole database; move the checkpoint when they "
        "hold; then reconcile what other apps derive from the ledger (the analytics summaries); exit non-zero "
        "naming what is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--deep", action="store_true", help="Also check every entry's links to its lots (about twice as slow)."
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="Read the whole ledger again, not only what came after the checkpoint, and rewrite the checkpoint.",
        )

    def handle(self, *args, deep=False, full=False, **options):
        verification = points_verify_ledger(deep=deep, full=full)
        started = time.perf_counter()
        derived, notes = reconciliation_problems(deep=deep, full=full)
        reconciled = time.perf_counter() - started
        for problem in verification.problems + derived:
            self.stderr.write(self.style.ERROR(str(problem)))
        rules = rule_count(deep=deep)
        since = verification.since
        read = f"after entry #{since.entry_through}" if since else "the whole ledger"
        if verification.problems:
            raise CommandError(
                f"ledger verification failed: {len(verification.problems)} of {rules} rules broken ({read}); "
                "the checkpoint stays where it was"
            )
        self.stdout.write(self.style.SUCCESS(f"ledger OK: {rules} rules hold ({read}, {verification.seconds:.2f} s)"))
        if verification.moved and verification.through:
            self.stdout.write(f"checkpoint: verified through entry #{verification.through.entry}")
        for note in notes:
            self.stdout.write(note)
        if derived:
            raise CommandError(f"reconciliation failed: {len(derived)} figure(s) kept apart disagree with the ledger")
        self.stdout.write(self.style.SUCCESS(f"figures kept apart reconcile with the ledger ({reconciled:.2f} s)"))
