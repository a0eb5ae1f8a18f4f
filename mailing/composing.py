"""A member's message of a mailing: the operator's templates rendered for the member, the footer that says
why they receive it and how to stop it, and the one-click unsubscribe headers (RFC 8058) with a signed link.

The templates are Django templates rendered by an engine of their own: no loaders (no `{% include %}` of
the site's templates), no tag libraries beyond the built-in ones, no autoescaping (the mail is plain
text), and a context of plain strings only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from common.formatting import date_text, grouped
from mailing.models import MAIL_PURPOSES
from members.models import Consent

ENGINE = Engine(autoescape=False, loaders=[], libraries={})
# What an operator may write in a mailing's subject and body.
VARIABLES = ("name", "balance", "expiring_points", "expiring_on", "programme")
UNSUBSCRIBE_SALT = "mailing.unsubscribe"


@dataclass(frozen=True)
class Figures:
    """A member's points in the mailing's programme, read in one query per batch (mailing.selectors)."""

    balance: int = 0
    expiring_points: int = 0
    expiring_on: datetime.date | None = None


@dataclass(frozen=True)
class Templates:
    """A mailing's subject and body compiled once for a batch."""

    subject: Template
    body: Template

    @classmethod
    def of(cls, *, subject: str, body: str) -> Templates:
        return cls(subject=ENGINE.from_string(subject), body=ENGINE.from_string(body))


def templates_check(*, subject: str, body: str) -> None:
    """Raise TemplateSyntaxError (or any error of rendering) if the texts would not render for a member."""
    templates = Templates.of(subject=subject, body=body)
    context = _context(name="山田 花子", programme="", figures=Figures(1_234, 500, datetime.date(2026, 12, 31)))
    templates.subject.render(Context(context))
    templates.body.render(Context(context))


def _context(*, name: str, programme: str, figures: Figures) -> dict[str, str]:
    return {
        "name": name,
        "balance": grouped(figures.balance),
        "expiring_points": grouped(figures.expiring_points),
        "expiring_on": date_text(figures.expiring_on),
        "programme": programme,
    }


# --- one-click unsubscribe ------------------------------------------------------------------------------------


def unsubscribe_token(*, member_id: int, purpose: str) -> str:
    """A signed token naming the member and the purpose; it does not expire (an old mail's link still works)."""
    return signing.dumps([member_id, purpose], salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[int, str]:
    """The member id and mail purpose of a token; signing.BadSignature for a token not ours (or tampered
    with)."""
    try:
        member_id, purpose = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (TypeError, ValueError) as error:
        raise signing.BadSignature("not an unsubscribe token") from error
    if not isinstance(member_id, int) or purpose not in MAIL_PURPOSES:
        raise signing.BadSignature("not an unsubscribe token")
    return member_id, purpose


def unsubscribe_url(token: str) -> str:
    return settings.MEMBER_SITE_BASE_URL.rstrip("/") + reverse("mailing:unsubscribe", args=[token])


# --- the message ---------------------------------------------------------------------------------------------


def message_build(
    *,
    templates: Templates,
    member_id: int,
    name: str,
    email: str,
    purpose: str,
    programme,
    figures: Figures,
    connection=None,
) -> EmailMessage:
    """The member's message: subject and body rendered for them, the footer, and the List-Unsubscribe headers
    (the https link; RFC 8058's one-click POST to it withdraws the consent)."""
    url = unsubscribe_url(unsubscribe_token(member_id=member_id, purpose=purpose))
    with translation.override(settings.LANGUAGE_CODE):
        context = Context(_context(name=name or _("Member"), programme=programme.name, figures=figures))
        subject = " ".join(templates.subject.render(context).split())
        body = templates.body.render(context).rstrip() + "\n\n" + _footer(programme, purpose, url)
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.MAILING_FROM_EMAIL,
        to=[email],
        connection=connection,
        headers={"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )


def _footer(programme, purpose: str, url: str) -> str:
    sender = programme.secretariat_name or programme.name
    lines = [
        "――――――――",
        _("You receive this mail because you agreed to receive %(purpose)s from %(programme)s.")
        % {"purpose": Consent.Purpose(purpose).label, "programme": programme.name},
        _("To stop receiving it: %(url)s") % {"url": url},
        sender,
    ]
    if programme.secretariat_address:
        lines.append(programme.secretariat_address)
    return "\n".join(lines)


__all__ = [
    "VARIABLES",
    "Figures",
    "Templates",
    "TemplateSyntaxError",
    "message_build",
    "templates_check",
    "unsubscribe_token",
    "unsubscribe_token_read",
    "unsubscribe_url",
]
