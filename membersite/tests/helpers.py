"""Members as the member site's and the member API's tests need them: registered with an e-mail and signed in."""

from __future__ import annotations

import json

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from members.models import Member
from members.services import member_register
from membersite.services import api_session_open, member_login_user
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


class MemberApp:
    """The member's smartphone app as the tests drive it: the member API through the Django test client, with
    the secret of a session of its own (`sign_in`) or none."""

    def __init__(self, client, session: str | None = None):
        self.client, self.session = client, session

    def sign_in(self, member: Member) -> MemberApp:
        self.session = api_session_open(member=member)[1]
        return self

    def call(self, method: str, path: str, body=None, *, language: str = "ja", raw: str | None = None):
        headers = {"Accept-Language": language}
        if self.session:
            headers["Authorization"] = f"Bearer {self.session}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        extra = {"data": data, "content_type": "application/json"} if data is not None else {}
        return getattr(self.client, method.lower())(f"/api/member/v1/{path}", headers=headers, **extra)

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def post(self, path: str, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path: str, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw):
        return self.call("DELETE", path, **kw)


def error_of(response) -> tuple[int, str]:
    """The status and the stable code of an error answer, which must have the error shape."""
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"], body
    return response.status_code, body["error"]["code"]
