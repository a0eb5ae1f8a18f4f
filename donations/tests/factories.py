"""Organisations members donate to, and donations made through the real service."""

import itertools

import factory

from donations.models import Donation, Organisation
from donations.services import donation_make
from points.tests.factories import ProgrammeFactory

_keys = itertools.count(1)


class OrganisationFactory(factory.django.DjangoModelFactory):
    """A charity taking donations with no start or end, paid into an ordinary account."""

    class Meta:
        model = Organisation

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"ひかり子ども食堂{n}")
    purpose = "地域の子どもたちに温かい食事を届けます。"
    bank_code = "0005"
    bank_name_kana = "ﾐﾂﾋﾞｼﾕｰｴﾌｼﾞｪｲ"
    branch_code = "123"
    branch_name_kana = "ｼﾝｼﾞﾕｸ"
    account_number = "7654321"
    account_holder_kana = "トクヒ)ヒカリコドモシヨクドウ"


def donate(member, organisation, points: int, *, key: str | None = None, **extra) -> Donation:
    """A donation from the member site, unless told otherwise."""
    return donation_make(
        member=member,
        organisation=organisation,
        points=points,
        channel=extra.pop("channel", Donation.Channel.SITE),
        idempotency_key=key or f"test-donation-{next(_keys)}",
        **extra,
    )
