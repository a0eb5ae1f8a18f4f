"""QR points test data: events and flyers running now, and what a member's phone sends."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from points.models import Funder
from points.tests.factories import ProgrammeFactory
from qrpoints.models import Flyer, QrEvent
from qrpoints.tokens import qr_url


def _now():
    return timezone.now().replace(microsecond=0)


class QrEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QrEvent

    programme = factory.SubFactory(ProgrammeFactory)
    name = "夏祭りQRポイント"
    points = 100
    valid_from = factory.LazyFunction(lambda: _now() - datetime.timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: _now() + datetime.timedelta(days=7))
    max_claims = 100
    funder = Funder.SECRETARIAT


class FlyerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flyer
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    name = "秋の商店街チラシ"
    points = 50
    valid_from = factory.LazyFunction(lambda: _now() - datetime.timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: _now() + datetime.timedelta(days=7))
    funder = Funder.STORE

    @factory.post_generation
    def stores(flyer, create, extracted, **kwargs):
        if create and extracted:
            flyer.stores.set(extracted)


def token_of(obj) -> str:
    """The token in the code's URL, as the member site receives it."""
    return qr_url(obj).rsplit("/my/qr/", 1)[1].rstrip("/")
