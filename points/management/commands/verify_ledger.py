import time

from django.core.management.base import BaseCommand, CommandError

from points.verification import ledger_problems, reconciliation_problems, rule_count


class Command(BaseCommand):
    help = (
        "Check every invariant of the point ledger over the whole database, then reconcile what other apps "
        "derive from it (the analytics summaries); exit non-zero naming what is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--deep", action="store_true", help="Also check every entry's links to its lots (about twice as slow)."
        )

    def handle(self, *args, deep=False, **options):
        started = time.perf_counter()
        problems = ledger_problems(deep=deep)
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        derived, notes = reconciliation_problems(deep=deep)
        reconciled = time.perf_counter() - started
        for problem in problems + derived:
            self.stderr.write(self.style.ERROR(str(problem)))
        rules = rule_count(deep=deep)
        if problems:
            raise CommandError(f"ledger verification failed: {len(problems)} of {rules} rules broken")
        self.stdout.write(self.style.SUCCESS(f"ledger OK: {rules} rules hold ({elapsed:.2f} s)"))
        for note in notes:
            self.stdout.write(note)
        if derived:
            raise CommandError(f"reconciliation failed: {len(derived)} figure(s) kept apart disagree with the ledger")
        self.stdout.write(self.style.SUCCESS(f"figures kept apart reconcile with the ledger ({reconciled:.2f} s)"))
