"""Time admin changelists as a logged-in superuser would see them; prints one JSON line.

Run by bench/foundation.py in a subprocess with DATABASE_URL set. Search
terms are real values from the database (a member's phone, a card's IDm);
they are sent to the page but never printed.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from urllib.parse import urlencode

RUNS = 5

# changelist -> (url, {variant: query string}); {phone} and {idm} are filled in from the data.
PAGES = {
    "members": (
        "/admin/members/member/",
        {"first": "", "later": "?p=50", "filtered": "?status__exact=active", "searched": "?{phone}"},
    ),
    "cards": (
        "/admin/members/card/",
        {"first": "", "later": "?p=50", "filtered": "?card_type__exact=transit_ic", "searched": "?{idm}"},
    ),
    "entries": (
        "/admin/points/entry/",
        {"first": "", "later": "?p=50", "filtered": "?kind__exact=spend"},
    ),
}


def measure(client, url: str, *, expect: str = "", secret: str = "") -> dict:
    """Median time and most queries over RUNS requests, after a warm-up; an error instead of a crash."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    try:
        response = client.get(url)
        if response.status_code != 200:
            where = f" to {response.get('Location')}" if response.status_code in (301, 302) else ""
            return {"ms": None, "queries": None, "error": f"HTTP {response.status_code}{where}"}
        timings, queries = [], 0
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
            queries = max(queries, len(captured.captured_queries))
        figure = {"ms": round(statistics.median(timings) * 1000, 1), "queries": queries}
        if expect:
            figure["found"] = expect in response.content.decode()
        return figure
    except Exception as exc:  # a page being written by someone else must not stop the bench
        message = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"
        if secret:
            message = message.replace(secret, "<search term>")
        return {"ms": None, "queries": None, "error": message}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from members.models import Card, Member

    user, _created = get_user_model().objects.update_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)

    member = Member.objects.exclude(phone_bidx="").order_by("id").first()
    card = Card.objects.filter(card_type=Card.CardType.TRANSIT_IC).select_related("member").order_by("id").first()
    terms = {
        "phone": (urlencode({"q": member.phone}), member.pseudonym, member.phone) if member else None,
        "idm": (urlencode({"q": card.number}), card.member.pseudonym, card.number) if card else None,
    }
    figures: dict[str, dict] = {}
    for name, (path, variants) in PAGES.items():
        figures[name] = {}
        for variant, query in variants.items():
            term = next((term for term in terms if "{" + term + "}" in query), None)
            if term is None:
                figures[name][variant] = measure(client, path + query)
            elif terms[term] is None:
                figures[name][variant] = {"ms": None, "queries": None, "error": f"no {term} in the data"}
            else:
                filled, expect, secret = terms[term]
                url = path + query.replace("{" + term + "}", filled)
                figures[name][variant] = measure(client, url, expect=expect, secret=secret)
    print(json.dumps({"changelists": figures}))


if __name__ == "__main__":
    main()
