"""Campaigns, coupon templates and rallies share one admin base: saved and switched through their services,
each switch audited, never deleted, never imported."""

import pytest
from django.contrib import admin

from audit.backoffice import PromotionAdmin
from audit.models import AuditEvent
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from coupons.models import CouponTemplate
from coupons.tests.factories import CouponTemplateFactory
from rallies.models import Rally
from rallies.tests.factories import RallyFactory

pytestmark = pytest.mark.django_db

# model, factory, the action that starts it, the action that stops it, the status it stops in
PROMOTIONS = [
    (Campaign, CampaignFactory, "activate", "pause", Campaign.Status.PAUSED),
    (CouponTemplate, CouponTemplateFactory, "activate", "pause", CouponTemplate.Status.PAUSED),
    (Rally, RallyFactory, "activate", "close", Rally.Status.CLOSED),
]


@pytest.mark.parametrize(
    ("model", "factory", "start", "stop", "stopped"), PROMOTIONS, ids=lambda v: getattr(v, "__name__", v)
)
def test_starting_and_stopping_goes_through_the_service_and_is_audited(
    secretariat_client, model, factory, start, stop, stopped
):
    # given a draft
    promotion = factory(status="draft")
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    # when the secretariat starts it, then stops it, from the list
    for action in (start, stop):
        response = secretariat_client.post(url, {"action": action, "_selected_action": [promotion.pk]})
        assert response.status_code == 302
    # then each switch has its audit row, written by the service
    promotion.refresh_from_db()
    assert promotion.status == stopped
    events = AuditEvent.objects.filter(object_type=model._meta.label, object_id=str(promotion.pk)).order_by("pk")
    assert [event.detail["status"] for event in events] == ["active", stopped]
    assert all(event.actor is not None for event in events)


@pytest.mark.parametrize(
    ("model", "factory", "start", "stop", "stopped"), PROMOTIONS, ids=lambda v: getattr(v, "__name__", v)
)
def test_a_promotion_is_never_deleted_nor_imported(secretariat_client, model, factory, start, stop, stopped):
    # given
    promotion = factory()
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    # then the shared base refuses both, whatever the role's permissions
    assert isinstance(admin.site._registry[model], PromotionAdmin)
    assert secretariat_client.get(f"{base}{promotion.pk}/delete/").status_code == 403
    assert secretariat_client.get(f"{base}import/").status_code == 403
    assert model.objects.filter(pk=promotion.pk).exists()
