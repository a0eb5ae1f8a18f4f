import time

from django.core.management.base import BaseCommand, CommandError

from points.verification import CHECKS, ledger_problems


class Command(BaseCommand):
    help = "Check every invariant of the point ledger over the whole database; exit non-zero naming what is wrong."

    def handle(self, *args, **options):
        started = time.perf_counter()
        problems = ledger_problems()
        elapsed = time.perf_counter() - started
        for problem in problems:
            self.stderr.write(self.style.ERROR(str(problem)))
        if problems:
            raise CommandError(f"ledger verification failed: {len(problems)} of {len(CHECKS)} checks")
        self.stdout.write(self.style.SUCCESS(f"ledger OK: {len(CHECKS)} checks passed in {elapsed:.2f} s"))
