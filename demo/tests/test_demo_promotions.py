"""`make run`'s demo leaves no screen empty: campaigns running, coupons issued, stamps, exchanges and a
reservation, all made through the services and the till."""

from django.core.management import call_command

from audit.models import AuditEvent
from campaigns.models import CampaignApplication
from coupons.models import Coupon
from exchange.models import Exchange
from points.models import Entry
from rallies.models import GoalReached, Stamp


def test_the_demo_has_something_in_every_promotion_and_at_the_desk(db, capsys):
    # given the demo street as make run makes it
    call_command("seed_demo", "--members", "200", "--stores", "8", "--months", "2")
    call_command("demo_admin", "--force")
    call_command("demo_exchange")

    # when
    call_command("demo_promotions")

    # then
    out = capsys.readouterr().out
    assert "2 campaigns running" in out
    assert CampaignApplication.objects.exists()
    assert Coupon.objects.exists()
    assert Stamp.objects.exists() and GoalReached.objects.exists()
    assert Exchange.objects.filter(status=Exchange.Status.HANDED_OVER).count() == 3
    assert Exchange.objects.filter(status=Exchange.Status.RESERVED).count() == 1
    # made by the services: audited, and the purchases are the till's
    assert AuditEvent.objects.filter(object_type="campaigns.Campaign", summary="Created a campaign").count() == 2
    assert Entry.objects.filter(idempotency_key__startswith="demo-promotions-", kind=Entry.Kind.EARN).count() == 120


def test_the_demo_promotions_are_made_once(db, capsys):
    call_command("seed_demo", "--members", "100", "--stores", "6", "--months", "1")
    call_command("demo_admin", "--force")
    call_command("demo_exchange")
    call_command("demo_promotions")
    coupons = Coupon.objects.count()

    call_command("demo_promotions")

    assert Coupon.objects.count() == coupons
