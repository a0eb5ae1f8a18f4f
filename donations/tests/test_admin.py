"""The donations in the back office, through Django's test client as the secretariat uses them: the desk's
donation (find, confirm, donate), the lists, the close of a month, the notice and the transfer file."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from donations.models import Donation, DonationSettlement, Organisation
from donations.tests.factories import donate
from exchange.tests.factories import give_points
from members.tests.factories import MemberFactory
from points.models import Account, Entry
from points.tests.factories import make_card

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()


def donate_url(organisation) -> str:
    return reverse("admin:donations_organisation_donate", args=[organisation.pk])


def confirm_page(client, organisation, member_text: str, points: int):
    return client.post(donate_url(organisation), {"member": member_text, "points": points})


def confirmed(page) -> dict:
    """What the confirmation page posts back, as a browser would."""
    return {name: page.context["confirm"][name].value() for name in ("member_id", "points", "key")}


def test_the_desk_records_a_members_donation(secretariat_client, secretariat, rich_member, organisation, programme):
    change = secretariat_client.get(reverse("admin:donations_organisation_change", args=[organisation.pk]))
    assert donate_url(organisation) in change.content.decode()

    page = confirm_page(secretariat_client, organisation, rich_member.pseudonym, 100)
    assert page.status_code == 200
    shown = page.content.decode()
    assert rich_member.pseudonym in shown and "1,000 pt" in shown and "100 pt" in shown

    done = secretariat_client.post(donate_url(organisation), confirmed(page))

    donation = Donation.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "admin:donations_donation_change", args=[donation.pk]
    )
    assert (donation.member, donation.points, donation.channel, donation.staff) == (
        rich_member,
        100,
        "desk",
        secretariat,
    )
    assert Entry.objects.get(kind=Entry.Kind.DONATION).staff == secretariat
    assert Account.objects.get(member=rich_member, programme=programme).balance == 900
    assert AuditEvent.objects.get(object_type="donations.Donation").actor == secretariat
    follow = secretariat_client.get(done["Location"])
    assert f"{rich_member.pseudonym} が ひかり子ども食堂 に 100 ポイントを寄付しました。" in follow.content.decode()


def test_a_double_submit_at_the_desk_donates_once(secretariat_client, rich_member, organisation, programme):
    page = confirm_page(secretariat_client, organisation, rich_member.pseudonym, 100)
    posted = confirmed(page)

    secretariat_client.post(donate_url(organisation), posted)
    secretariat_client.post(donate_url(organisation), posted)

    assert Donation.objects.count() == 1
    assert Account.objects.get(member=rich_member, programme=programme).balance == 900


def test_the_desk_finds_the_member_by_card_number(secretariat_client, organisation, programme):
    card = make_card(member=MemberFactory())
    give_points(card.member, programme, 300)

    page = confirm_page(secretariat_client, organisation, card.number, 50)

    assert page.status_code == 200 and page.context["member"] == card.member


def test_the_desk_says_when_no_member_matches(secretariat_client, organisation):
    page = confirm_page(secretariat_client, organisation, "MAAAAAAAAAA", 50)

    assert "この会員番号・カード番号の会員は見つかりません。" in page.content.decode()
    assert "confirm" not in page.context


def test_the_desk_does_not_offer_more_than_the_member_can_donate(secretariat_client, rich_member, organisation):
    page = confirm_page(secretariat_client, organisation, rich_member.pseudonym, 5_000)

    assert "寄付できるポイントが足りません。" in page.content.decode()
    assert 'id="confirm-form"' not in page.content.decode()
    # and a forged confirmation is refused by the ledger, nothing written
    posted = {**confirmed(page)}
    refused = secretariat_client.post(donate_url(organisation), posted)
    assert "5,000 ポイントを寄付するにはポイントが足りません。残高は 1,000 ポイントです。" in refused.content.decode()
    assert not Donation.objects.exists()


def test_an_organisation_not_taking_donations_is_refused_at_the_desk(secretariat_client, rich_member, organisation):
    Organisation.objects.filter(pk=organisation.pk).update(active_until=timezone.localdate())

    page = confirm_page(secretariat_client, organisation, rich_member.pseudonym, 100)
    refused = secretariat_client.post(donate_url(organisation), confirmed(page))

    assert "この寄付先は本日、寄付を受け付けていません。" in page.content.decode()
    assert "「ひかり子ども食堂」は現在、寄付を受け付けていません。" in refused.content.decode()
    assert not Donation.objects.exists()


def test_staff_without_the_permission_cannot_record_donations(operator_client, auditor_client, organisation):
    assert operator_client.get(donate_url(organisation)).status_code in (403, 404)
    assert auditor_client.get(donate_url(organisation)).status_code == 403


def test_an_organisations_bank_name_must_fit_a_transfer_file(secretariat_client, programme):
    data = {
        "programme": programme.pk,
        "name": "緑の募金",
        "purpose": "植樹",
        "website": "",
        "position": 0,
        "is_public": "on",
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "ordinary",
        "account_number": "1234567",
        "account_holder_kana": "緑の募金",
    }

    refused = secretariat_client.post(reverse("admin:donations_organisation_add"), data)
    assert refused.status_code == 200 and not Organisation.objects.exists()
    assert "“緑”" in refused.content.decode()

    saved = secretariat_client.post(
        reverse("admin:donations_organisation_add"), {**data, "account_holder_kana": "ミドリノボキン"}
    )
    assert saved.status_code == 302 and Organisation.objects.get().account_holder_kana == "ミドリノボキン"


def test_the_lists_show_the_donations_and_the_running_total(secretariat_client, rich_member, organisation):
    donate(rich_member, organisation, 120)

    organisations = secretariat_client.get(reverse("admin:donations_organisation_changelist"))
    donations = secretariat_client.get(reverse("admin:donations_donation_changelist"))

    assert organisations.status_code == donations.status_code == 200
    assert "120 pt" in organisations.content.decode()
    assert rich_member.pseudonym in donations.content.decode()
    assert secretariat_client.get(reverse("admin:donations_donation_add")).status_code == 403


def test_the_secretariat_closes_a_month_downloads_the_notice_and_the_transfer_file(
    secretariat_client, secretariat, rich_member, organisation, programme
):
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=10)
    donate(rich_member, organisation, 300, at=datetime.datetime.combine(last_month, datetime.time(10), tzinfo=ZONE))
    changelist = reverse("admin:donations_donationsettlement_changelist")
    assert reverse("admin:donations_donationsettlement_close") in secretariat_client.get(changelist).content.decode()

    closed = secretariat_client.post(
        reverse("admin:donations_donationsettlement_close"),
        {"programme": programme.pk, "period": f"{last_month:%Y-%m}"},
    )

    assert closed.status_code == 302
    settlement = DonationSettlement.objects.get()
    assert (settlement.total_points, settlement.closed_by) == (300, secretariat)
    notice = secretariat_client.get(reverse("admin:donations_donationsettlement_notice", args=[settlement.pk]))
    assert notice.status_code == 200 and notice["Content-Type"] == "application/pdf"
    assert b"".join(notice.streaming_content).startswith(b"%PDF")

    exported = secretariat_client.post(changelist, {"action": "transfer_file", "_selected_action": [settlement.pk]})
    assert exported.status_code == 200 and "zengin-donations-" in exported["Content-Disposition"]
    lines = exported.content.split(b"\r\n")[:-1]
    assert len(lines) == 4 and int(lines[1].decode("cp932")[80:90]) == 300

    secretariat_client.post(changelist, {"action": "mark_paid", "_selected_action": [settlement.pk]})
    settlement.refresh_from_db()
    assert (settlement.status, settlement.paid_by) == ("paid", secretariat)


def test_a_month_not_ended_is_refused_on_the_close_page(secretariat_client, programme, organisation):
    refused = secretariat_client.post(
        reverse("admin:donations_donationsettlement_close"),
        {"programme": programme.pk, "period": f"{timezone.localdate():%Y-%m}"},
    )

    assert refused.status_code == 200 and "まだ終わっていません" in refused.content.decode()
    assert not DonationSettlement.objects.exists()
