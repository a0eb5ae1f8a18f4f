"""The nightly rank evaluation (django-q2 schedule "evaluate-ranks", 00:00 Tokyo)."""

from django.utils import timezone

from ranks.services import ranks_evaluate_all


def evaluate_ranks() -> dict[str, int]:
    return ranks_evaluate_all(day=timezone.localdate())
