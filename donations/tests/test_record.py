"""A member's record of their donations: the selector the member site lists them with, and the PDF it
serves, read back through pdftotext."""

import datetime

import pytest
from django.utils import timezone

from billing.tests.factories import BillingSettingsFactory
from donations.documents import donation_record_pdf
from donations.selectors import donations_of_member, organisations_accepting
from donations.tests.conftest import needs_poppler, pdf_text
from donations.tests.factories import OrganisationFactory, donate
from exchange.tests.factories import give_points
from members.models import Member
from members.tests.factories import MemberFactory
from points.models import Programme
from points.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()


def test_a_members_donations_newest_first_and_nobody_elses(rich_member, organisation, programme):
    other = MemberFactory()
    give_points(other, programme, 100)
    first = donate(rich_member, organisation, 100, at=datetime.datetime(2026, 5, 1, 10, tzinfo=ZONE))
    second = donate(rich_member, organisation, 30, at=datetime.datetime(2026, 6, 1, 10, tzinfo=ZONE))
    donate(other, organisation, 50)

    assert list(donations_of_member(member=rich_member)) == [second, first]


def test_a_merged_records_donations_show_on_the_survivors_record(rich_member, organisation, programme):
    merged = MemberFactory()
    give_points(merged, programme, 100)
    theirs = donate(merged, organisation, 60)
    Member.objects.filter(pk=merged.pk).update(merged_into=rich_member)

    assert list(donations_of_member(member=rich_member)) == [theirs]


def test_the_organisations_a_member_may_choose_today(programme, organisation, billing_settings):
    today = timezone.localdate()
    OrganisationFactory(programme=programme, name="終了した募金", active_until=today)
    OrganisationFactory(programme=programme, name="来月からの募金", active_from=today + datetime.timedelta(days=1))
    last_day = OrganisationFactory(
        programme=programme, name="明日まで", active_until=today + datetime.timedelta(days=1)
    )

    assert set(organisations_accepting(programme=programme)) == {organisation, last_day}


@needs_poppler
def test_the_record_lists_each_donation_with_the_programmes_secretariat(rich_member, organisation, tmp_path):
    donate(rich_member, organisation, 100, at=datetime.datetime(2026, 5, 1, 10, tzinfo=ZONE))
    donate(rich_member, organisation, 30, at=datetime.datetime(2026, 6, 2, 10, tzinfo=ZONE))
    shopping = ProgrammeFactory(code="DEPT", name="ひかり百貨店ポイント")
    BillingSettingsFactory(programme=shopping)
    Programme.objects.filter(pk=shopping.pk).update(secretariat_name="ひかり百貨店 ポイント事務局")
    give_points(rich_member, shopping, 500)
    donate(rich_member, OrganisationFactory(programme=shopping, name="緑の募金"), 500)

    text = pdf_text(donation_record_pdf(member=rich_member), tmp_path)

    assert "ポイント寄付の記録" in text
    assert f"会員番号 {rich_member.pseudonym}" in text
    assert "2026/05/01 ひかり子ども食堂 100 pt 100円" in text
    assert "2026/06/02 ひかり子ども食堂 30 pt 30円" in text
    assert "ひかり商店街振興組合 事務局" in text
    assert "ひかり百貨店 ポイント事務局" in text and "緑の募金 500 pt 500円" in text
    # Nothing personal: the member id only
    assert rich_member.name not in text


@needs_poppler
def test_a_member_with_no_donations_gets_a_record_saying_so(member, tmp_path):
    text = pdf_text(donation_record_pdf(member=member), tmp_path)

    assert "寄付の記録はありません。" in text
