"""Mailings and the members they are sent to, as the tests of mail to members build them."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from exchange.tests.factories import give_points
from mailing.models import Mailing
from members.models import Consent
from members.services.consents import consent_record
from members.tests.factories import CardFactory, MemberFactory
from points.models import Lot
from points.services import accounts_open
from points.tests.factories import ProgrammeFactory, make_staff
from till.tests.helpers import till_buy

MAIL = Consent.Purpose.MAIL_MAGAZINE


class MailingFactory(factory.django.DjangoModelFactory):
    """A draft of the programme's mail magazine to every member of the programme."""

    class Meta:
        model = Mailing

    programme = factory.SubFactory(ProgrammeFactory)
    purpose = Mailing.Purpose.MAIL_MAGAZINE
    subject = "{{ programme }}からのお知らせ"
    body = "{{ name }} 様\n\nポイント残高は {{ balance }} ポイントです。"


def member_of(programme, *, consents=(MAIL,), **fields):
    """A registered member with an account in the programme, who has agreed to the purposes given."""
    member = MemberFactory(**fields)
    accounts_open(member=member, programmes=[programme], staff=make_staff())
    if consents:
        consent_record(member=member, choices=dict.fromkeys(consents, True), channel=Consent.Channel.SITE)
    return member


def withdraw(member, purpose=MAIL) -> None:
    consent_record(member=member, choices={purpose: False}, channel=Consent.Channel.SITE)


def visit(member, store, *, days_ago: int = 0, amount_yen: int = 1_000):
    """A purchase by the member at the store's till, days_ago days ago (the programme must accept it)."""
    card = member.cards.first() or CardFactory(member=member)
    at = timezone.now() - datetime.timedelta(days=days_ago)
    return till_buy(card, store, amount_yen=amount_yen, at=at if days_ago else None)


def points_expiring(member, programme, points: int, on: datetime.date) -> Lot:
    """Points for the member that expire on the day given."""
    give_points(member, programme, points)
    lot = Lot.objects.filter(account__member=member, account__programme=programme).latest("pk")
    Lot.objects.filter(pk=lot.pk).update(expires_on=on)
    lot.refresh_from_db()
    return lot


def next_month(day: datetime.date | None = None) -> datetime.date:
    """The first day of the month after day's (today's)."""
    day = day or timezone.localdate()
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
