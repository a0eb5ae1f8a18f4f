"""The public page at /donations/: no login, readable on a phone, in Japanese by default.

Each active programme's organisations taking donations today, with what they are for and their running
total (points, yen and number of donations). Nothing about who gave.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from donations.selectors import public_totals


@require_safe
@cache_control(max_age=60)
def totals(request):
    sections = [
        {
            "programme": programme,
            "organisations": organisations,
            "points": sum(each.totals.points for each in organisations),
            "yen": sum(each.totals.yen for each in organisations),
        }
        for programme, organisations in public_totals()
    ]
    return render(request, "donations/totals.html", {"sections": sections})
