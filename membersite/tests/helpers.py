"""Members as the member site's tests need them: registered with an e-mail and signed in."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from members.models import Member
from members.services import member_register
from membersite.services import member_login_user
from points.tests.factories import make_card

_n = iter(range(1, 10_000))


def registered_member(*, name: str = "山田 花子", email: str | None = None) -> Member:
    card = make_card()
    return member_register(
        member=card.member,
        terms_version="",
        personal={"name": name, "name_kana": "ヤマダ ハナコ", "email": email or f"hanako{next(_n)}@example.jp"},
        consents={"mail_magazine": True, "direct_mail": False, "targeted_offers": False, "analysis": False},
        channel="site",
    )


def sign_in(client, member: Member) -> None:
    """The session a member has after pressing the sign-in link's button."""
    client.force_login(member_login_user(member=member), backend="django.contrib.auth.backends.ModelBackend")
    assert all(key in client.session for key in (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY))
