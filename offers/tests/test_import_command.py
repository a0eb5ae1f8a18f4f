"""manage.py import_card_transactions: a card issuer's file, matched once, a return in a later file reversing."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from members.tests.factories import MemberFactory
from offers.models import CardTransaction, Redemption
from offers.services import offer_activate, offers_settle_due, payment_card_link
from offers.tests.factories import consenting, joined, make_offer
from points.tests.factories import ProgrammeFactory, StoreFactory, join

pytestmark = pytest.mark.django_db
HEADER = "card_token,merchant_code,store_code,amount_yen,occurred_at,transaction_id,original_transaction_id\n"


def test_a_card_file_is_matched_once_and_a_later_return_reverses_the_benefit(tmp_path, capsys):
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    member = joined(consenting(MemberFactory()), programme)
    payment_card_link(member=member, token="tok_abc123")
    offer = make_offer(programme=programme, store=store)
    offer_activate(member=member, offer=offer)
    at = timezone.localtime().replace(microsecond=0).isoformat()
    codes = f"{store.merchant.code},{store.code}"
    first = tmp_path / "card-20261204.csv"
    first.write_text(HEADER + f"tok_abc123,{codes},3500,{at},T-001,\ntok_zzz,{codes},9000,{at},T-002,\n")

    call_command("import_card_transactions", str(first))
    call_command("import_card_transactions", str(first))  # the same file again changes nothing

    assert "duplicate=2" in capsys.readouterr().out
    assert CardTransaction.objects.count() == 2
    redemption = Redemption.objects.get()
    assert (redemption.amount_yen, redemption.benefit) == (3_500, 500)
    offers_settle_due(today=timezone.localdate() + datetime.timedelta(days=30))

    later = tmp_path / "card-20261220.csv"
    later.write_text(HEADER + f"tok_abc123,{codes},-3500,{at},T-010,T-001\n")
    call_command("import_card_transactions", str(later))

    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.REVERSED
