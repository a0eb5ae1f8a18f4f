"""The bands the summaries count in: days between visits, and the silences after which a member is dormant."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FIRST_VISIT = 0
# (upper end in days, label): a visit falls in the first band whose end it does not pass.
GAP_BANDS: tuple[tuple[int, object], ...] = (
    (1, _("next day")),
    (7, _("2–7 days")),
    (14, _("8–14 days")),
    (30, _("15–30 days")),
    (60, _("31–60 days")),
    (90, _("61–90 days")),
    (180, _("91–180 days")),
    (365, _("181–365 days")),
    (9999, _("over a year")),
)
# "More customers shopping once a week" and "returns within 60 days": the street's own measures.
WEEKLY = 7
RETURN_WITHIN = 60
# Days without a visit after which a member counts as dormant (a report picks one); each is a band's end,
# so that "came back after more than N days" is also read from the bands.
DORMANCY_THRESHOLDS = (30, 60, 90, 180)


def gap_band_sql(column: str) -> str:
    """The band of a number of days (NULL: a first visit) as SQL."""
    cases = " ".join(f"WHEN {column} <= {end} THEN {end}" for end, _label in GAP_BANDS[:-1])
    return f"CASE WHEN {column} IS NULL THEN {FIRST_VISIT} {cases} ELSE {GAP_BANDS[-1][0]} END"


def gap_band_label(end: int) -> str:
    if end == FIRST_VISIT:
        return str(_("first visit"))
    return str(dict(GAP_BANDS)[end])
