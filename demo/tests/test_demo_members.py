"""`make run`'s member side: the demo members' policy, a third party, and a working sign-in link printed."""

import re

from django.core.management import call_command
from django.test import override_settings

from donations.models import Organisation
from mailing.models import Delivery, ExpiryReminder, Mailing
from members.models import Consent, ConsentPolicy, ThirdParty
from qrpoints.models import QrEvent


@override_settings(DEBUG=True)
def test_the_demo_prints_a_sign_in_link_that_works(db, capsys, client):
    call_command("seed_demo", "--members", "60", "--stores", "4", "--months", "1")
    call_command("demo_members", "--url", "http://testserver/my/")
    call_command("demo_members", "--url", "http://testserver/my/")  # made once

    assert ConsentPolicy.objects.count() == 1 and ThirdParty.objects.count() == 1
    assert Organisation.objects.count() == 1 and QrEvent.objects.count() == 1
    # mail to members: one mailing sent (its log written), one draft to send, the monthly reminder
    assert sorted(Mailing.objects.values_list("status", flat=True)) == ["draft", "sent"]
    sent = Mailing.objects.get(status="sent")
    assert sent.finished_at is not None
    assert Delivery.objects.filter(mailing=sent).count() == sent.sent_count + sent.skipped_count + sent.failed_count
    assert ExpiryReminder.objects.filter(active=True).count() == 1
    # the demo members' consents are in the ledger, as the flags say
    assert Consent.objects.filter(purpose="mail_magazine", given=True).exists()
    out = capsys.readouterr().out
    token = re.findall(r"http://testserver/my/link/\?token=(\S+)", out)[-1]
    assert client.post("/my/link/", {"token": token}).status_code == 302
    assert client.get("/my/").status_code == 200
