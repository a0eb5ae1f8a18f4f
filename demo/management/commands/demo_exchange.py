"""Give a local demo its exchange desk: two counters with opening hours, the window rule "the 1st to the
10th, weekdays, not on national holidays", and five catalogue items with stock. Running it again changes
nothing that exists (stock is only received for an item it creates)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from exchange.models import Counter, CounterHours, Item, WindowRule
from exchange.services import stock_receive
from exchange.windows import next_opening
from points.models import Programme

COUNTERS = [
    # name, address, phone, weekdays, opens, closes
    ("事務局窓口", "東京都千代田区ひかり町1-2-3 ひかり会館2階", "03-1234-5678", range(5), (9, 30), (17, 0)),
    ("ひかり信用金庫 本店", "東京都千代田区ひかり町2-5-1", "03-1234-9000", range(5), (9, 0), (15, 0)),
]

ITEMS = [
    # name, description, face value, points, stock, first-come per window, per member per window, per year,
    # only at the first counter
    ("テーマパーク1デーパスポート", "大人1名様1日有効。", 0, 5_200, 40, 20, 2, None, True),
    ("おこめ券（3,000円分）", "全国の米穀店・スーパーで使えます。", 3_000, 2_700, 200, None, 2, 10, False),
    ("図書カード（3,000円分）", "全国の書店で使えます。", 3_000, 2_700, 200, None, 2, 10, False),
    ("商店街駐車券（2時間×5枚）", "ひかり商店街の提携駐車場で使えます。", 2_000, 1_600, 300, None, None, None, False),
    ("ひかり商店街オリジナル買い物袋", "丈夫な帆布製です。", 0, 1_000, 100, None, 2, None, False),
]


class Command(BaseCommand):
    help = "Demo exchange desk: two counters with hours, the window rule and five catalogue items with stock."

    def add_arguments(self, parser):
        parser.add_argument("--programme", help="programme code (default: the first programme)")

    def handle(self, *args, programme=None, **options):
        programmes = Programme.objects.order_by("code")
        found = programmes.filter(code=programme).first() if programme else programmes.first()
        if found is None:
            raise CommandError("No such programme: run `manage.py seed_demo` first, or name one with --programme.")
        with transaction.atomic():
            counters, new_counters = self._counters(found)
            new_rule = self._rule(found)
            new_items = self._items(found, counters[0])
        self.stdout.write(
            f"{found}: {len(COUNTERS)} counters ({new_counters} new), window rule ({'new' if new_rule else 'kept'}), "
            f"{len(ITEMS)} items ({new_items} new)"
        )
        opening = next_opening(found, None)
        if opening is not None:
            self.stdout.write(self.style.SUCCESS(f"The desk opens next at {opening:%Y-%m-%d %H:%M}."))

    def _counters(self, programme):
        counters, created = [], 0
        for position, (name, address, phone, weekdays, opens, closes) in enumerate(COUNTERS):
            counter, new = Counter.objects.get_or_create(
                programme=programme,
                name=name,
                defaults={"address": address, "phone": phone, "position": position},
            )
            if new:
                created += 1
                CounterHours.objects.bulk_create(
                    CounterHours(
                        counter=counter, weekday=day, opens=datetime.time(*opens), closes=datetime.time(*closes)
                    )
                    for day in weekdays
                )
            counters.append(counter)
        return counters, created

    def _rule(self, programme) -> bool:
        _rule, created = WindowRule.objects.get_or_create(
            programme=programme,
            name="毎月1日〜10日（平日、祝日を除く）",
            defaults={"first_day": 1, "last_day": 10, "weekdays_only": True, "exclude_holidays": True},
        )
        return created

    def _items(self, programme, office) -> int:
        created = 0
        for position, (
            name,
            description,
            face,
            points,
            quantity,
            first_come,
            per_window,
            per_year,
            office_only,
        ) in enumerate(ITEMS):
            item, new = Item.objects.get_or_create(
                programme=programme,
                name=name,
                defaults={
                    "description": description,
                    "face_value_yen": face,
                    "price_points": points,
                    "first_come_per_window": first_come,
                    "limit_per_member_window": per_window,
                    "limit_per_member_year": per_year,
                    "position": position,
                },
            )
            if new:
                created += 1
                if office_only:
                    item.counters.set([office])
                stock_receive(item=item, quantity=quantity, staff=None, reason="デモ用の初期在庫")
        return created
