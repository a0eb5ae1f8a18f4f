"""The public page at /donations/: each organisation taking donations with its running total, in Japanese,
and nothing about who gave."""

import datetime

import pytest
from django.utils import timezone

from donations.tests.factories import OrganisationFactory, donate
from exchange.tests.factories import give_points
from members.tests.factories import MemberFactory
from points.models import Programme

pytestmark = pytest.mark.django_db


def test_each_organisation_shows_its_running_total(client, programme, organisation, rich_member):
    fund = OrganisationFactory(programme=programme, name="さくら災害義援金", purpose="被災地の復興に。")
    other = MemberFactory()
    give_points(other, programme, 5_000)
    donate(rich_member, organisation, 100)
    donate(other, organisation, 1_200)
    donate(other, fund, 1)

    page = client.get("/donations/")

    assert page.status_code == 200 and page["Cache-Control"] == "max-age=60"
    html = page.content.decode()
    assert '<html lang="ja">' in html and "ポイント寄付" in html
    kitchen = html[html.index(f'id="organisation-{organisation.pk}"') :][:2_000]
    assert "ひかり子ども食堂" in kitchen and "地域の子どもたちに温かい食事を届けます。" in kitchen
    assert "1,300 pt" in kitchen and "1,300円" in kitchen and "2 件" in kitchen
    sakura = html[html.index(f'id="organisation-{fund.pk}"') :][:2_000]
    assert "1 pt" in sakura and "1円" in sakura and "1 件" in sakura
    # the programme's total of all organisations
    assert "1,301 pt" in html
    # nothing personal
    for member in (rich_member, other):
        assert member.pseudonym not in html and member.name not in html


def test_organisations_not_taking_donations_or_not_public_are_not_shown(client, programme, organisation):
    today = timezone.localdate()
    ended = OrganisationFactory(programme=programme, name="終了した募金", active_until=today)
    hidden = OrganisationFactory(programme=programme, name="非公開の寄付先", is_public=False)
    later = OrganisationFactory(programme=programme, name="来月の募金", active_from=today + datetime.timedelta(days=1))

    html = client.get("/donations/").content.decode()

    assert "ひかり子ども食堂" in html
    for each in (ended, hidden, later):
        assert each.name not in html


def test_an_inactive_programmes_organisations_are_not_shown(client, programme, organisation):
    Programme.objects.filter(pk=programme.pk).update(is_active=False)

    html = client.get("/donations/").content.decode()

    assert "ひかり子ども食堂" not in html
    assert "現在、寄付を受け付けている寄付先はありません。" in html


def test_the_page_only_answers_reads(client, organisation):
    assert client.post("/donations/").status_code == 405
