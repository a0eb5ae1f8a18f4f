"""Nightly django-q2 schedules, created by data migrations (so a fresh database has them)."""

import datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def schedule_daily(apps, *, name: str, func: str, at: datetime.time) -> None:
    """Run `func` every day at `at`, Tokyo time, from tomorrow on. Pass the migration's `apps`."""
    Schedule = apps.get_model("django_q", "Schedule")
    tomorrow = datetime.datetime.now(TOKYO).date() + datetime.timedelta(days=1)
    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": "D",
            "repeats": -1,
            "next_run": datetime.datetime.combine(tomorrow, at, tzinfo=TOKYO),
        },
    )


def unschedule(apps, *, name: str) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name=name).delete()


def schedule_every_minutes(apps, *, name: str, func: str, minutes: int) -> None:
    """Run `func` every `minutes` minutes, from the next whole minute. Pass the migration's `apps`."""
    Schedule = apps.get_model("django_q", "Schedule")
    start = datetime.datetime.now(TOKYO).replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    Schedule.objects.update_or_create(
        name=name,
        defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1, "next_run": start},
    )
