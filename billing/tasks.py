"""django-q2 entry points: thin wrappers over services."""

from __future__ import annotations

import logging

from billing.selectors import periods_due_for_close
from billing.services import CloseError, period_close
from points.models import Programme

logger = logging.getLogger(__name__)


def close_due_periods() -> str:
    """Nightly: close every programme's last period once it has ended. A period that cannot close (it does
    not tie out, settings missing) is logged and retried the next night; the others go on."""
    done = []
    for programme, year, month in periods_due_for_close():
        try:
            result = period_close(programme=programme, year=year, month=month)
        except CloseError as error:
            logger.error("close of %s %s-%02d failed: %s", programme, year, month, error)
            continue
        done.append(f"{programme.code} {year}-{month:02d}: {result.statements} statements")
    return "; ".join(done) or "nothing to close"


def close_period(programme_id: int, year: int, month: int, staff_id: int | None = None) -> str:
    """On demand from the admin (queued, so the page does not wait for 200 PDFs)."""
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.filter(pk=staff_id).first() if staff_id else None
    result = period_close(programme=Programme.objects.get(pk=programme_id), year=year, month=month, staff=staff)
    return f"{result.statements} statements, {result.documents_rendered} PDFs"
