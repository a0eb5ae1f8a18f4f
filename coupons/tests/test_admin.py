"""Coupons in the back office: operators create and activate templates (through coupons.services, audited
once); everyone allowed finds coupons by code or member id and reads the report, which hides small groups;
nobody changes an issued coupon."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from coupons.models import Coupon, CouponTemplate
from coupons.services import coupon_redeem
from coupons.tests.factories import CouponTemplateFactory
from coupons.tests.helpers import earn
from loyalty.roles import AUDITOR, OPERATOR, SECRETARIAT
from members.tests.factories import CardFactory, MemberFactory
from points.models import Funder
from points.tests.factories import StoreFactory, TerminalFactory, join
from stores.models import Store
from stores.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

TEMPLATES = reverse("admin:coupons_coupontemplate_changelist")
ADD = reverse("admin:coupons_coupontemplate_add")
COUPONS = reverse("admin:coupons_coupon_changelist")
REPORT = reverse("admin:coupons_report")


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


def result_rows(response) -> str:
    page = response.content.decode()
    return page.split('id="result_list"')[1].split("</tbody>")[0] if 'id="result_list"' in page else ""


def form_data(programme, **changes) -> dict:
    """What the add form posts for a draft "300 yen off on the 5th purchase within 90 days" template."""
    data = {
        "programme": programme.pk,
        "name": "5回目のお買い物で300円引き",
        "status": CouponTemplate.Status.DRAFT,
        "benefit": CouponTemplate.Benefit.DISCOUNT_YEN,
        "discount_yen": "300",
        "bonus_points": "0",
        "funder": Funder.SECRETARIAT,
        "condition": CouponTemplate.Condition.NTH_PURCHASE_AT_STORE,
        "purchases_needed": "5",
        "within_days": "90",
        "item_category": "",
        "min_amount_yen": "0",
        "starts_at": "2026-12-01T00:00",
        "ends_at": "2027-01-01T00:00",
        "valid_days": "30",
        "limit_per_member": "1",
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- templates ---------------------------------------------------------------------------


def test_an_operator_creates_a_template_audited_once(operator_client, operator, programme, store, other_store):
    data = form_data(programme, store_ids=[other_store.pk], categories=[Store.Category.CAFE])

    response = operator_client.post(ADD, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    template = CouponTemplate.objects.get()
    tokyo = timezone.get_default_timezone()
    assert (template.name, template.discount_yen, template.purchases_needed, template.within_days) == (
        "5回目のお買い物で300円引き",
        300,
        5,
        90,
    )
    assert template.starts_at == datetime.datetime(2026, 12, 1, tzinfo=tokyo)
    assert (template.store_ids, template.categories, template.created_by) == (
        [other_store.pk],
        [Store.Category.CAFE],
        operator,
    )
    events = AuditEvent.objects.filter(object_type="coupons.CouponTemplate", object_id=str(template.pk))
    assert list(events.values_list("summary", flat=True)) == ["Created a coupon template"]


def test_a_category_template_needs_its_category(operator_client, programme):
    data = form_data(programme, condition=CouponTemplate.Condition.CATEGORY_PURCHASES, item_category="")

    response = operator_client.post(ADD, data)

    assert response.status_code == 200
    assert shown("Name the item category whose purchases are counted.") in response.content.decode()
    assert not CouponTemplate.objects.exists()


def test_only_the_chosen_benefit_is_kept(operator_client, programme):
    data = form_data(programme, benefit=CouponTemplate.Benefit.BONUS_POINTS, bonus_points="50", discount_yen="300")

    operator_client.post(ADD, data)

    assert CouponTemplate.objects.values_list("bonus_points", "discount_yen").get() == (50, 0)


def test_the_issuing_period_must_not_be_empty(operator_client, programme):
    response = operator_client.post(ADD, form_data(programme, ends_at="2026-12-01T00:00"))

    assert shown("The issuing period must end after it starts.") in response.content.decode()


def test_stores_outside_the_programme_are_refused(operator_client, programme):
    outsider = StoreFactory(name="よその店")
    response = operator_client.post(ADD, form_data(programme, store_ids=[outsider.pk]))

    assert response.status_code == 200
    assert not CouponTemplate.objects.exists()


def test_activating_from_the_list_is_audited(operator_client, programme):
    template = CouponTemplateFactory(programme=programme, status=CouponTemplate.Status.DRAFT, name="春のクーポン")

    operator_client.post(TEMPLATES, {"action": "activate", "_selected_action": [template.pk]})

    template.refresh_from_db()
    assert template.status == CouponTemplate.Status.ACTIVE
    assert AuditEvent.objects.filter(object_id=str(template.pk), summary="Activated a coupon template").exists()


def test_the_template_list_says_what_each_gives_and_to_whom(operator_client, programme):
    CouponTemplateFactory(
        programme=programme,
        name="パンのクーポン",
        condition="category_purchases",
        item_category="パン",
        purchases_needed=3,
        within_days=None,
        discount_yen=100,
    )

    rows = result_rows(operator_client.get(TEMPLATES, {"q": "パン", "status__exact": "active"}))

    assert "パンのクーポン" in rows
    assert shown("%(yen)s yen off", yen="100") in rows
    assert shown("%(n)s purchases from “%(category)s”", n=3, category="パン") in rows


def test_an_auditor_reads_templates_but_changes_nothing(auditor_client, programme):
    template = CouponTemplateFactory(programme=programme)
    url = reverse("admin:coupons_coupontemplate_change", args=[template.pk])

    assert auditor_client.get(url).status_code == 200
    assert auditor_client.post(url, form_data(programme)).status_code == 403
    assert auditor_client.get(ADD).status_code == 403


# --- coupons -----------------------------------------------------------------------------


@pytest.fixture
def coupon(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=1, name="次回300円引き")
    return earn(card, store)[1][0]


def test_a_coupon_is_found_by_its_code_as_printed(operator_client, coupon):
    response = operator_client.get(COUPONS, {"q": coupon.printed_code.lower()})

    rows = result_rows(response)
    assert response.status_code == 200
    assert coupon.printed_code in rows and "次回300円引き" in rows


def test_coupons_are_found_by_member_id(operator_client, coupon, programme, store):
    other = earn(CardFactory(member=MemberFactory()), store)[1][0]

    rows = result_rows(operator_client.get(COUPONS, {"q": coupon.member.pseudonym, "status__exact": "issued"}))

    assert coupon.printed_code in rows and other.printed_code not in rows


def test_nobody_changes_an_issued_coupon(client, coupon):
    client.force_login(StaffFactory(username="jimu", role=SECRETARIAT))
    url = reverse("admin:coupons_coupon_change", args=[coupon.pk])

    view = client.get(url)
    change = client.post(url, {"status": Coupon.Status.REDEEMED})

    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert change.status_code == 403
    assert client.get(reverse("admin:coupons_coupon_add")).status_code == 403


# --- the report --------------------------------------------------------------------------


def _figure(page: str, row_id: str) -> list[str]:
    row = page.split(f'id="{row_id}"')[1].split("</tr>")[0]
    return [cell.split(">")[-1] for cell in row.split("</th>")[1:-1]]


def test_the_report_shows_issued_redeemed_and_rate(operator_client, programme, store, other_store):
    CouponTemplateFactory(programme=programme, purchases_needed=1, name="次回300円引き")
    coupons = [earn(CardFactory(member=MemberFactory()), store)[1][0] for _ in range(10)]
    till = TerminalFactory(store=other_store)
    for n, coupon in enumerate(coupons[:5]):
        coupon_redeem(code=coupon.code, terminal=till, idempotency_key=f"r{n}")
    today = timezone.localdate()

    response = operator_client.get(REPORT, {"start": today.isoformat(), "last": today.isoformat()})

    page = response.content.decode()
    assert response.status_code == 200
    assert _figure(page, "coupon-report-total") == ["10", "5", "50.0%", "1,500", "0"]
    assert "次回300円引き" in page and str(store) in page and str(other_store) in page


def test_the_report_hides_groups_of_fewer_than_five_members(operator_client, programme, store):
    CouponTemplateFactory(programme=programme, purchases_needed=1)
    [earn(CardFactory(member=MemberFactory()), store) for _ in range(4)]
    today = timezone.localdate()

    page = operator_client.get(REPORT, {"start": today.isoformat(), "last": today.isoformat()}).content.decode()

    assert _figure(page, "coupon-report-total") == ["5名未満", "0", "5名未満", "0", "0"]
    assert ">4<" not in page


def test_the_report_opens_on_this_month(auditor_client):
    response = auditor_client.get(REPORT)

    assert response.status_code == 200
    assert f'value="{timezone.localdate().replace(day=1).isoformat()}"' in response.content.decode()


def test_the_report_link_is_on_the_template_list(operator_client):
    assert REPORT in operator_client.get(TEMPLATES).content.decode()


def test_staff_without_a_role_cannot_see_the_report(client, db):
    client.force_login(StaffFactory(username="nobody", is_staff=True))

    assert client.get(REPORT).status_code == 403


def test_the_store_list_offers_every_store_of_the_programme(operator_client, programme, store):
    join(StoreFactory(name="さくら書店", category=Store.Category.BOOKSHOP), programme)

    page = operator_client.get(ADD).content.decode()

    assert "さくら書店" in page and 'name="categories" value="bakery"' in page
