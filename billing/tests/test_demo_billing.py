from django.core.management import call_command

from billing.models import BillingSettings, Period, Statement
from stores.models import MerchantUser


def test_demo_billing_closes_and_sends_last_month_and_gives_a_portal_login(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo", "--members", "200", "--stores", "6", "--months", "2")

    call_command("demo_billing")

    out = capsys.readouterr().out
    assert BillingSettings.objects.count() == 1
    period = Period.objects.get()
    assert period.status == Period.Status.CLOSED and period.tie_out["ties_out"]
    assert Statement.objects.filter(status=Statement.Status.SENT).count() == Statement.objects.count() > 0
    assert MerchantUser.objects.get().user.username == "tenpo"
    assert "Merchant portal:" in out and "password:" in out
