"""manage.py import_card_transactions FILE: a card issuer's transaction file (CSV, UTF-8, a header line:
card_token, merchant_code, store_code, amount_yen, occurred_at, transaction_id and, for a return,
original_transaction_id). Each line is matched once by its transaction id; a re-run changes nothing."""

import csv
import datetime
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from offers.services import CardLine, card_transaction_import

COLUMNS = ("card_token", "merchant_code", "store_code", "amount_yen", "occurred_at", "transaction_id")


def _time(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text.strip())
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class Command(BaseCommand):
    help = "Import a card issuer's transaction file and match its lines to the members' activated offers."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"no such file: {file}")
        outcomes: Counter = Counter()
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CommandError(f"missing columns: {', '.join(missing)}")
            for number, row in enumerate(reader, start=2):
                try:
                    line = CardLine(
                        token=row["card_token"].strip(),
                        merchant_code=row["merchant_code"].strip(),
                        store_code=row["store_code"].strip(),
                        amount_yen=int(row["amount_yen"]),
                        occurred_at=_time(row["occurred_at"]),
                        transaction_id=row["transaction_id"].strip(),
                        original_id=(row.get("original_transaction_id") or "").strip(),
                    )
                except (ValueError, KeyError) as error:
                    self.stderr.write(f"line {number}: {error}")
                    outcomes["invalid"] += 1
                    continue
                _found, outcome = card_transaction_import(line=line, file_name=path.name)
                outcomes[outcome] += 1
        self.stdout.write(", ".join(f"{key}={value}" for key, value in sorted(outcomes.items())))
