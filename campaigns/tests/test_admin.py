"""Campaigns in the back office: operators create, change, forecast, activate and pause them through
the admin (every write through campaigns.services, audited once); everyone allowed reads the bonuses
given and why; auditors change nothing; operators still see no personal data."""

import datetime
import re
import zoneinfo

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from campaigns.models import Campaign, CampaignApplication
from campaigns.tests.factories import CampaignFactory
from loyalty.roles import AUDITOR, OPERATOR
from members.tests.factories import CardFactory, MemberFactory
from points.models import Funder
from points.tests.factories import StoreFactory, join
from stores.models import Store
from stores.tests.factories import StaffFactory
from till.tests.helpers import till_buy

pytestmark = pytest.mark.django_db

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
CAMPAIGNS = reverse("admin:campaigns_campaign_changelist")
ADD = reverse("admin:campaigns_campaign_add")
APPLICATIONS = reverse("admin:campaigns_campaignapplication_changelist")


@pytest.fixture
def operator(db):
    return StaffFactory(username="unyou", role=OPERATOR)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def auditor_client(client, db):
    client.force_login(StaffFactory(username="kansa", role=AUDITOR))
    return client


def shown(message: str, **values) -> str:
    """A message in the language the admin speaks to a user who asked for none."""
    with translation.override(django_settings.LANGUAGE_CODE):
        text = gettext(message)
    return text % values if values else text


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def result_rows(response) -> str:
    """The rows of a changelist, without its filters."""
    page = response.content.decode()
    return page.split('id="result_list"')[1].split("</tbody>")[0] if 'id="result_list"' in page else ""


def change_url(campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def forecast_url(campaign) -> str:
    return reverse("admin:campaigns_campaign_forecast", args=[campaign.pk])


def form_data(programme, **changes) -> dict:
    """What the add form posts for a plain draft double-points campaign in May 2026."""
    data = {
        "programme": programme.pk,
        "name": "母の日ダブルポイント",
        "status": Campaign.Status.DRAFT,
        "kind": Campaign.Kind.MULTIPLIER,
        "multiplier_percent": "200",
        "fixed_points": "0",
        "starts_at": "2026-05-01T00:00",
        "ends_at": "2026-06-01T00:00",
        "hour_from": "",
        "hour_to": "",
        "age_min": "",
        "age_max": "",
        "postal_prefixes": "",
        "registered": Campaign.Registered.ANY,
        "min_amount_yen": "0",
        "item_categories": "",
        "budget_points": "",
        "cap_per_member_day": "",
        "cap_per_member": "",
        "funder": Funder.SECRETARIAT,
        "priority": "100",
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def campaign_events(campaign) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="campaigns.Campaign", object_id=str(campaign.pk))
        .order_by("pk")
        .values_list("summary", flat=True)
    )


def earn(card, store, amount_yen, key):
    return till_buy(card, store, amount_yen=amount_yen, key=key).posting


# --- changelists ---------------------------------------------------------------------------


def test_campaign_changelist_loads_with_filters_and_search(operator_client, programme):
    CampaignFactory(programme=programme, name="雨の日ボーナス", kind="fixed", fixed_points=30, funder="store")
    CampaignFactory(programme=programme, name="ダブルポイント")

    response = operator_client.get(
        CAMPAIGNS, {"q": "雨の日", "status__exact": "active", "funder__exact": "store", "kind__exact": "fixed"}
    )

    rows = result_rows(response)
    assert response.status_code == 200
    assert "雨の日ボーナス" in rows and "ダブルポイント" not in rows
    assert shown("+%(points)s points", points="30") in rows


def test_the_list_shows_budget_used_of_total(operator_client, programme):
    CampaignFactory(programme=programme, name="予算つき", budget_points=10_000, budget_used=1_234)

    page = operator_client.get(CAMPAIGNS).content.decode()

    assert "1,234 / 10,000" in page


def test_application_changelist_answers_why_a_member_got_a_bonus(operator_client, programme, store, card):
    campaign = CampaignFactory(programme=programme, name="ダブルポイント")
    CampaignFactory(programme=programme, name="ほかのキャンペーン", kind="fixed", fixed_points=5, priority=200)
    earn(card, store, 3_000, "why-1")
    pseudonym = card.member.pseudonym

    response = operator_client.get(APPLICATIONS, {"q": pseudonym, "campaign__id__exact": campaign.pk})

    rows = result_rows(response)
    application = CampaignApplication.objects.get(campaign=campaign)
    assert response.status_code == 200
    assert pseudonym in rows and ">30 pt<" in rows
    assert application.reason in rows
    assert "ほかのキャンペーン" not in rows


def test_applications_are_found_by_campaign_name(operator_client, programme, store, card):
    CampaignFactory(programme=programme, name="ダブルポイント")
    earn(card, store, 1_000, "why-2")

    found = result_rows(operator_client.get(APPLICATIONS, {"q": "ダブル"}))
    not_found = result_rows(operator_client.get(APPLICATIONS, {"q": "存在しない"}))

    assert card.member.pseudonym in found
    assert card.member.pseudonym not in not_found


def test_nobody_adds_or_changes_applications(operator_client, programme, store, card):
    CampaignFactory(programme=programme)
    earn(card, store, 1_000, "why-3")
    application = CampaignApplication.objects.get()
    url = reverse("admin:campaigns_campaignapplication_change", args=[application.pk])

    view = operator_client.get(url)
    change = operator_client.post(url, {"points": 999})

    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert change.status_code == 403
    assert operator_client.get(reverse("admin:campaigns_campaignapplication_add")).status_code == 403


# --- creating and changing ------------------------------------------------------------------


def test_the_add_form_speaks_japanese_with_weekday_and_category_checkboxes(operator_client, programme, store):
    page = operator_client.get(ADD).content.decode()

    assert 'type="datetime-local"' in page
    weekdays = re.findall(r'name="weekdays" value="\d"[^>]*>\s*(\S+)</label>', page)
    assert weekdays == list("月火水木金土日")
    assert 'name="categories" value="bakery"' in page
    assert str(store) in page


def test_creating_a_campaign_stores_its_lists_and_is_audited_once(operator_client, operator, programme, store):
    other = join(StoreFactory(name="さくら書店", category=Store.Category.BOOKSHOP), programme)
    data = form_data(
        programme,
        weekdays=["5", "0"],
        hour_from="17",
        hour_to="20",
        store_ids=[store.pk],
        excluded_store_ids=[other.pk],
        categories=["bakery", "cafe"],
        excluded_categories=["liquor"],
        genders=["female"],
        age_min="20",
        age_max="39",
        postal_prefixes="１００、1010, 100",
        item_categories="wagashi, 和菓子",
        budget_points="50000",
        cap_per_member_day="100",
    )

    response = operator_client.post(ADD, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get(name="母の日ダブルポイント")
    assert campaign.weekdays == [0, 5]
    assert (campaign.hour_from, campaign.hour_to) == (17, 20)
    assert (campaign.store_ids, campaign.excluded_store_ids) == ([store.pk], [other.pk])
    assert (campaign.categories, campaign.excluded_categories) == (["bakery", "cafe"], ["liquor"])
    assert campaign.genders == ["female"]
    assert campaign.postal_prefixes == ["100", "1010"]
    assert campaign.item_categories == ["wagashi", "和菓子"]
    assert timezone.localtime(campaign.starts_at) == datetime.datetime(2026, 5, 1, tzinfo=TOKYO)
    assert timezone.localtime(campaign.ends_at) == datetime.datetime(2026, 6, 1, tzinfo=TOKYO)
    assert campaign.created_by == operator
    assert campaign_events(campaign) == ["Created a campaign"]


def test_the_change_form_shows_the_lists_as_entered_and_budget_used_read_only(operator_client, programme):
    campaign = CampaignFactory(
        programme=programme, postal_prefixes=["100", "1010"], budget_points=5_000, budget_used=1_200
    )

    page = operator_client.get(change_url(campaign)).content.decode()

    assert 'value="100, 1010"' in page
    assert "1200" in page and 'name="budget_used"' not in page


def test_changing_a_running_campaign_is_audited_with_the_fields_changed(operator_client, programme):
    campaign = CampaignFactory(programme=programme, name="ダブルポイント", status=Campaign.Status.ACTIVE)
    data = form_data(programme, name="ダブルポイント", status="active", multiplier_percent="300")
    data["starts_at"] = f"{timezone.localtime(campaign.starts_at):%Y-%m-%dT%H:%M}"
    data["ends_at"] = f"{timezone.localtime(campaign.ends_at):%Y-%m-%dT%H:%M}"

    response = operator_client.post(change_url(campaign), data)

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.multiplier_percent == 300
    event = AuditEvent.objects.get(object_type="campaigns.Campaign", object_id=str(campaign.pk))
    assert event.summary == "Changed a running campaign"
    assert "multiplier_percent" in event.detail["changed"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_at": "2026-04-30T00:00"}, "ends_at", "The campaign must end after it starts."),
        ({"ends_at": "2026-05-01T00:00"}, "ends_at", "The campaign must end after it starts."),
        (
            {"hour_from": "20", "hour_to": "17"},
            "hour_to",
            "The end hour must be later than the start hour. A campaign over midnight is two campaigns "
            "(for example 22:00–24:00 and 0:00–2:00).",
        ),
        ({"age_min": "40", "age_max": "30"}, "age_max", "The upper age must not be below the lower age."),
        (
            {"multiplier_percent": "100"},
            "multiplier_percent",
            "A multiplier campaign needs a multiplier above 100% (200% = double points).",
        ),
        (
            {"kind": "fixed", "fixed_points": "0"},
            "fixed_points",
            "A fixed-bonus campaign needs a bonus of at least 1 point.",
        ),
    ],
)
def test_the_form_refuses_inconsistent_conditions(operator_client, programme, changes, field, message):
    response = operator_client.post(ADD, form_data(programme, **changes))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [shown(message)]
    assert not Campaign.objects.exists()


def test_a_store_both_included_and_excluded_is_refused(operator_client, programme, store):
    response = operator_client.post(ADD, form_data(programme, store_ids=[store.pk], excluded_store_ids=[store.pk]))

    errors = response.context["adminform"].form.errors["excluded_store_ids"]
    assert errors == [shown("A store cannot be both included and excluded: %(stores)s", stores=str(store))]
    assert not Campaign.objects.exists()


def test_a_category_both_included_and_excluded_is_refused(operator_client, programme):
    response = operator_client.post(ADD, form_data(programme, categories=["cafe"], excluded_categories=["cafe"]))

    assert "excluded_categories" in response.context["adminform"].form.errors
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("prefixes", ["10a", "100-0005", "12345678"])
def test_postal_prefixes_must_be_digits(operator_client, programme, prefixes):
    response = operator_client.post(ADD, form_data(programme, postal_prefixes=prefixes))

    errors = response.context["adminform"].form.errors["postal_prefixes"]
    assert prefixes in errors[0]
    assert not Campaign.objects.exists()


def test_a_store_outside_the_programme_is_refused(operator_client, programme, store):
    outsider = StoreFactory(name="よその店")

    response = operator_client.post(ADD, form_data(programme, store_ids=[outsider.pk]))

    assert response.status_code == 200
    assert not Campaign.objects.exists()


def test_the_budget_cannot_go_below_what_was_already_given(operator_client, programme):
    campaign = CampaignFactory(programme=programme, status="paused", budget_points=5_000, budget_used=1_200)
    data = form_data(programme, status="paused", budget_points="1000")

    response = operator_client.post(change_url(campaign), data)

    assert response.context["adminform"].form.errors["budget_points"] == [
        shown("The campaign has already given %(used)s points; the budget cannot be lower.", used="1,200")
    ]
    campaign.refresh_from_db()
    assert campaign.budget_points == 5_000


def test_campaigns_cannot_be_deleted_or_imported(operator_client, programme):
    campaign = CampaignFactory(programme=programme)

    delete = operator_client.get(reverse("admin:campaigns_campaign_delete", args=[campaign.pk]))
    imports = operator_client.get(reverse("admin:campaigns_campaign_import"))

    assert delete.status_code == 403
    assert imports.status_code == 403


# --- activate and pause ---------------------------------------------------------------------


def test_the_activate_action_activates_drafts_and_audits_it(operator_client, programme):
    drafts = [CampaignFactory(programme=programme, status="draft") for _ in range(2)]

    response = operator_client.post(
        CAMPAIGNS, {"action": "activate", "_selected_action": [campaign.pk for campaign in drafts]}, follow=True
    )

    for campaign in drafts:
        campaign.refresh_from_db()
        assert campaign.status == Campaign.Status.ACTIVE
        assert campaign_events(campaign) == ["Activated a campaign"]
    assert messages_of(response) == ["2件のキャンペーンを開始しました。"]


def test_the_pause_action_pauses_running_campaigns_and_audits_it(operator_client, programme):
    campaign = CampaignFactory(programme=programme, status="active")

    operator_client.post(CAMPAIGNS, {"action": "pause", "_selected_action": [campaign.pk]})

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign_events(campaign) == ["Changed a running campaign"]


def test_activating_an_active_campaign_changes_and_records_nothing(operator_client, programme):
    campaign = CampaignFactory(programme=programme, status="active")

    operator_client.post(CAMPAIGNS, {"action": "activate", "_selected_action": [campaign.pk]})

    assert campaign_events(campaign) == []


# --- the forecast ---------------------------------------------------------------------------


@pytest.fixture
def past_purchases(programme, store):
    """Three earnings of 1,000 yen (10 base points each) by two members, recorded just now."""
    first, second = CardFactory(), CardFactory()
    for number, card in enumerate([first, first, second]):
        earn(card, store, 1_000, f"past-{number}")


def test_the_forecast_shows_what_a_draft_would_have_given(operator_client, programme, past_purchases):
    draft = CampaignFactory(programme=programme, status="draft", funder=Funder.STORE, name="ダブルポイント")

    response = operator_client.get(forecast_url(draft))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["forecast"].weeks == 4
    assert 'id="forecast-transactions">3<' in page
    assert 'id="forecast-matched">3<' in page
    assert 'id="forecast-bonus">30<' in page
    assert 'id="forecast-members">2<' in page
    assert 'id="forecast-cost">30<' in page
    by_funder = page.split('id="forecast-by-funder"')[1]
    assert f"<td>{Funder.STORE.label}</td><td>30円</td>" in by_funder.replace("\n", "").replace("  ", "")
    assert 'id="activate-form"' in page


def test_the_forecast_is_reached_from_the_change_page(operator_client, programme):
    campaign = CampaignFactory(programme=programme, status="draft")

    page = operator_client.get(change_url(campaign)).content.decode()

    assert f'href="{forecast_url(campaign)}"' in page


def test_the_forecast_replays_the_weeks_asked_for(operator_client, programme, past_purchases):
    campaign = CampaignFactory(programme=programme, status="draft")

    response = operator_client.get(forecast_url(campaign), {"weeks": "12"})

    assert response.context["forecast"].weeks == 12


def test_the_forecast_refuses_a_nonsense_number_of_weeks(operator_client, programme):
    campaign = CampaignFactory(programme=programme, status="draft")

    response = operator_client.get(forecast_url(campaign), {"weeks": "0"})

    assert response.status_code == 200
    assert response.context["forecast"] is None
    assert response.context["form"].errors["weeks"]


def test_activating_from_the_forecast_page_is_audited(operator_client, programme):
    campaign = CampaignFactory(programme=programme, status="draft", name="ダブルポイント")

    response = operator_client.post(reverse("admin:campaigns_campaign_activate", args=[campaign.pk]), follow=True)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert campaign_events(campaign) == ["Activated a campaign"]
    assert messages_of(response) == [shown("The campaign “%(name)s” is active.", name="ダブルポイント")]


# --- who may do what ------------------------------------------------------------------------


def test_an_auditor_reads_a_campaigns_conditions_in_words(auditor_client, programme, store):
    campaign = CampaignFactory(programme=programme, weekdays=[5, 6], store_ids=[store.pk], categories=["bakery"])

    page = auditor_client.get(change_url(campaign)).content.decode()

    with translation.override(django_settings.LANGUAGE_CODE):
        expected = [f"{gettext('Sat')}, {gettext('Sun')}", str(store), str(Store.Category.BAKERY.label)]
    assert all(text in page for text in expected)
    assert "[5, 6]" not in page


def test_an_auditor_sees_campaigns_and_their_forecast_but_changes_nothing(auditor_client, programme, past_purchases):
    campaign = CampaignFactory(programme=programme, status="draft")

    listed = auditor_client.get(CAMPAIGNS)
    viewed = auditor_client.get(change_url(campaign))
    forecast = auditor_client.get(forecast_url(campaign))
    changed = auditor_client.post(change_url(campaign), form_data(programme, status="active"))
    activated = auditor_client.post(reverse("admin:campaigns_campaign_activate", args=[campaign.pk]))
    action = auditor_client.post(CAMPAIGNS, {"action": "activate", "_selected_action": [campaign.pk]})

    assert (listed.status_code, viewed.status_code, forecast.status_code) == (200, 200, 200)
    assert 'name="_save"' not in viewed.content.decode()
    assert 'id="activate-form"' not in forecast.content.decode()
    assert (changed.status_code, activated.status_code) == (403, 403)
    assert action.status_code in (200, 302)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign_events(campaign) == []
    assert auditor_client.get(ADD).status_code == 403


def test_an_operator_sees_no_members_personal_data(operator_client, programme, store):
    member = MemberFactory(name="山田 花子", phone="090-1111-2222")
    CampaignFactory(programme=programme)
    earn(CardFactory(member=member), store, 1_000, "pd-1")
    application = CampaignApplication.objects.get()

    members = operator_client.get(reverse("admin:members_member_changelist"))
    listed = operator_client.get(APPLICATIONS).content.decode()
    viewed = operator_client.get(
        reverse("admin:campaigns_campaignapplication_change", args=[application.pk])
    ).content.decode()

    assert members.status_code == 403
    assert member.pseudonym in listed and member.pseudonym in viewed
    for page in (listed, viewed):
        assert "山田" not in page and "090-1111-2222" not in page


def test_a_rank_condition_takes_a_rank_of_the_campaigns_programme_only(operator_client, programme):
    from points.tests.factories import ProgrammeFactory
    from ranks.models import Rank

    gold = Rank.objects.create(programme=programme, name="ゴールド", threshold_yen=100_000)
    elsewhere = Rank.objects.create(programme=ProgrammeFactory(code="COMPANY"), name="プラチナ", threshold_yen=300_000)

    refused = operator_client.post(ADD, form_data(programme, min_rank=elsewhere.pk))
    created = operator_client.post(ADD, form_data(programme, name="ゴールド感謝デー", min_rank=gold.pk))

    assert refused.context["adminform"].form.errors["min_rank"] == [
        "キャンペーンのプログラムのランクを選んでください。"
    ]
    assert created.status_code == 302, created.context["adminform"].form.errors
    assert Campaign.objects.get(name="ゴールド感謝デー").min_rank == gold
