"""How far a period's close has got, for the admin to show while it runs (the close and the rendering of its
documents both report here)."""

from __future__ import annotations

from django.utils import timezone

from billing.models import Period


def period_progress(*, period: Period, phase: str, done: int = 0, total: int = 0) -> None:
    """Visible at once to the admin: written in autocommit, outside the close's transaction."""
    period.progress = {"phase": phase, "done": done, "total": total, "at": timezone.now().isoformat()}
    Period.objects.filter(pk=period.pk).update(progress=period.progress)
