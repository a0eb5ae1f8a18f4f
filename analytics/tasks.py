"""django-q2 entry points: thin wrappers over services."""

import logging

from analytics.services import analytics_refresh, analytics_refresh_today

logger = logging.getLogger(__name__)


def refresh_summaries() -> str:
    """After midnight: every day since the last final one, yesterday included, becomes final."""
    done = analytics_refresh()
    logger.info("analytics summaries refreshed from %s to %s in %.1f s", done.first_day, done.last_day, done.seconds)
    return f"refreshed {done.first_day}..{done.last_day} in {done.seconds:.1f} s"


def refresh_today() -> str:
    """Every few minutes: today's figures, as the ledger grows."""
    done = analytics_refresh_today()
    return f"refreshed {done.first_day}..{done.last_day} in {done.seconds:.1f} s"


def make_due_monthly_reports() -> str:
    """Nightly after the close: each programme's last month, once closed, for the secretariat and the
    merchants who asked; a month already made is only mailed where its mail has not gone yet."""
    from analytics.monthly.services import monthly_reports_due, monthly_reports_make

    done = []
    for programme, year, month in monthly_reports_due():
        try:
            run = monthly_reports_make(programme=programme, year=year, month=month)
        except Exception:
            logger.exception("monthly reports of %s %s-%02d failed", programme.code, year, month)
            continue
        done.append(f"{programme.code} {year}-{month:02d}: {len(run.made)} reports, {run.mailed} mailed")
    return "; ".join(done) or "nothing due"


def make_monthly_reports(programme_id: int, year: int, month: int) -> str:
    """By hand from the admin (queued)."""
    from analytics.monthly.services import monthly_reports_make
    from points.models import Programme

    run = monthly_reports_make(programme=Programme.objects.get(pk=programme_id), year=year, month=month)
    return f"{len(run.made)} reports, {run.mailed} mailed"
