"""The month-end close bills the merchant for the offers' benefits paid and their fees, tax on the fees, on
the statement and its PDF (the qualified invoice)."""

import shutil
import subprocess

import pytest
from django.utils import timezone

from billing.documents.pdf import render_statement_pdf
from billing.models import Statement, StatementLine
from billing.services import period_close
from billing.services.documents import statement_document
from billing.tests.factories import BillingSettingsFactory, after_period, this_period
from members.tests.factories import MemberFactory
from offers.models import Offer
from offers.services import offer_activate, offers_settle_due
from offers.tests.factories import consenting, joined, make_offer
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from till.tests.helpers import till_buy

pytestmark = pytest.mark.django_db
Kind = StatementLine.Kind


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_close_bills_the_merchant_for_benefits_paid_and_fees(tmp_path):
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    settings = BillingSettingsFactory(programme=programme, issue_price_bp=10_000)
    cash = make_offer(programme=programme, store=store, waiting_days=0, fee_per_redemption_yen=100)
    points = make_offer(
        programme=programme,
        store=store,
        title="ポイント10%還元",
        benefit=Offer.Benefit.POINTS,
        benefit_fixed=300,
        waiting_days=0,
        fee_per_redemption_yen=100,
    )
    for _ in range(2):
        member = joined(consenting(MemberFactory()), programme)
        offer_activate(member=member, offer=cash)
        offer_activate(member=member, offer=points)
        till_buy(make_card(member=member), store, amount_yen=3_000)
    assert offers_settle_due(today=timezone.localdate()) == 4

    year, month = this_period(settings)
    result = period_close(programme=programme, year=year, month=month, now=after_period(settings, year, month))

    assert result.tie_out["ties_out"] is True, result.tie_out
    statement = Statement.objects.get(store=store)
    lines = {line.kind: line for line in statement.lines.all()}
    assert lines[Kind.OFFER_CASHBACK].amount_yen == 1_000
    assert (lines[Kind.OFFER_FEE].quantity, lines[Kind.OFFER_FEE].amount_yen) == (4, 400)
    assert lines[Kind.OFFER_FEE].tax == "taxable_10"
    # The points benefit is a bonus the store funds, billed like a campaign's at the issue price.
    assert lines[Kind.BONUS_STORE].amount_yen == 600
    assert statement.taxable_amount_yen == 400 + sum(
        line.amount_yen for line in lines.values() if line.tax == "taxable_10" and line.kind != Kind.OFFER_FEE
    )
    if shutil.which("pdftotext"):
        path = tmp_path / "statement.pdf"
        path.write_bytes(render_statement_pdf(statement_document(statement)))
        text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split())
        assert "カード連動オファー 還元額（店舗負担）" in text
        assert "カード連動オファー 成果手数料" in text
