import datetime

from django.utils import timezone

from members.models import Consent
from members.services.consents import consent_record
from offers.models import Offer
from offers.services import offer_publish, offer_save

NOW = timezone.now()


def consenting(member, given=True):
    """The member's consent to targeted offers, given (or withdrawn) now."""
    consent_record(member=member, choices={Consent.Purpose.TARGETED_OFFERS: given}, channel="site")
    return member


def make_offer(*, programme, store, publish=True, **fields) -> Offer:
    values = {
        "title": "3,000円以上で500円バック",
        "starts_at": NOW - datetime.timedelta(days=1),
        "ends_at": NOW + datetime.timedelta(days=30),
        "min_purchase_yen": 3_000,
        "benefit": Offer.Benefit.YEN,
        "benefit_fixed": 500,
        "per_member_limit": 1,
        "budget": 100_000,
        "fee_per_redemption_yen": 50,
        "waiting_days": 30,
    }
    values.update(fields)
    offer = offer_save(offer=Offer(programme=programme, merchant=store.merchant, **values), stores=[store])
    if publish:
        offer_publish(offer=offer)
    return offer


def joined(member, programme):
    """The member with an account in the programme (as a first purchase or a desk registration leaves them)."""
    from points.models import Account

    Account.objects.get_or_create(member=member, programme=programme)
    return member
