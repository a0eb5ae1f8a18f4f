"""Reads about stores and terminals that are worth a name."""

import datetime
import hashlib

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from stores.models import Terminal


def terminal_secret_hash(secret: str) -> str:
    """What is stored of a terminal's bearer secret. The secret has 256 bits of
    entropy, so a plain SHA-256 is enough: there is nothing to brute-force."""
    return hashlib.sha256(secret.encode()).hexdigest()


def terminal_authenticate(*, secret: str) -> Terminal | None:
    """The active terminal holding this secret, or None (unknown, replaced or revoked).

    The store comes along: callers usually need it and should check its status.
    """
    if not secret:
        return None
    # The hash is unique: no ORDER BY for .first() to compose, on every terminal request.
    found = Terminal.objects.select_related("store").filter(
        secret_hash=terminal_secret_hash(secret), status=Terminal.Status.ACTIVE
    )[:1]
    return next(iter(found), None)


def terminal_silent_since(*, now: datetime.datetime | None = None) -> datetime.datetime:
    """A terminal not heard from since this moment counts as silent."""
    now = now or timezone.now()
    return now - datetime.timedelta(minutes=settings.TERMINAL_SILENT_AFTER_MINUTES)


def terminals_silent(*, queryset: QuerySet | None = None, now: datetime.datetime | None = None) -> QuerySet:
    """Active terminals that have not been heard from for longer than
    TERMINAL_SILENT_AFTER_MINUTES, including those never heard from at all."""
    queryset = Terminal.objects.all() if queryset is None else queryset
    since = terminal_silent_since(now=now)
    return queryset.filter(status=Terminal.Status.ACTIVE).filter(
        Q(last_seen_at__lt=since) | Q(last_seen_at__isnull=True)
    )


def terminals_heard_from(*, queryset: QuerySet | None = None, now: datetime.datetime | None = None) -> QuerySet:
    """Terminals heard from within the last TERMINAL_SILENT_AFTER_MINUTES."""
    queryset = Terminal.objects.all() if queryset is None else queryset
    return queryset.filter(last_seen_at__gte=terminal_silent_since(now=now))


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The start of a calendar day in the programme's time zone."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_default_timezone())


def local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The half-open [start, end) of a calendar day in the programme's time zone."""
    return local_midnight(day), local_midnight(day + datetime.timedelta(days=1))
