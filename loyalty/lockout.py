"""The page a user sees after too many wrong passwords (django-axes calls `locked_out`): in the user's
language and in the look of the site they tried, saying when to try again and how to reset the password.
The status stays 429."""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.contrib import admin
from django.shortcuts import render
from django.utils import timezone

PORTAL_PREFIX = "/portal/"


def locked_out(request, original_response=None, credentials=None):
    cool_off = get_cool_off(request)
    context = {
        "minutes": math.ceil(cool_off.total_seconds() / 60),
        "until": timezone.localtime(timezone.now() + cool_off),
        "title": "",
    }
    if request.path.startswith(PORTAL_PREFIX):
        return render(request, "portal/locked_out.html", context, status=429)
    return render(request, "admin/locked_out.html", {**admin.site.each_context(request), **context}, status=429)
