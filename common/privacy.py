"""The five-member rule: a report never shows a figure about a group of fewer than five members.

One rule for every report (coupons, rallies, analytics, the merchants' portal): a figure about one to four
members is replaced by `SMALL_GROUP`, shown as "5名未満" alike in a table, a chart and a CSV. A group of
nobody is shown as it is (0). Selectors keep their figures exact; the rule is applied where they are shown.
"""

from __future__ import annotations

import functools

from django.utils.translation import gettext, gettext_lazy

# A report never shows a group of fewer than five members.
MIN_GROUP = 5


def is_small_group(members: int | None) -> bool:
    """Whether a figure about this many members must be hidden: a group of one to four."""
    return members is not None and 0 < members < MIN_GROUP


def shown_count(members: int) -> int | None:
    """The number of members as a report may show it: None for a group of one to four."""
    return None if is_small_group(members) else members


@functools.total_ordering
class SmallGroup:
    """What a report shows instead of a figure about one to four members ("5名未満"). Falsy, and sorts
    before every number, so that a table of figures sorts with the hidden ones first."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __str__(self) -> str:
        return gettext("fewer than 5 members")

    def __repr__(self) -> str:
        return "SMALL_GROUP"

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other) -> bool:
        return other is self

    def __lt__(self, other) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return hash(SmallGroup)


SMALL_GROUP = SmallGroup()
SMALL_GROUP_LABEL = gettext_lazy("fewer than 5 members")


def masked(value, members: int | None):
    """The figure as a report shows it: SMALL_GROUP when it is about one to four members."""
    return SMALL_GROUP if is_small_group(members) else value
