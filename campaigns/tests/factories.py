import datetime

import factory
from django.utils import timezone

from campaigns.models import Campaign
from points.tests.factories import ProgrammeFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    """An active double-points campaign running from a day ago for a week."""

    class Meta:
        model = Campaign

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"キャンペーン{n}")
    status = Campaign.Status.ACTIVE
    kind = Campaign.Kind.MULTIPLIER
    multiplier_percent = 200
    starts_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
