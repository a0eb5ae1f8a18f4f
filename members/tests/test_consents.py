"""The consent ledger: append-only rows per purpose, the flags derived from them, and every use reading the
rows at the moment of use."""

import csv
import io

import pytest
from django.db import DatabaseError, transaction

from lifecycle.services import member_withdraw
from members.models import Consent, Member, Provision, ThirdParty
from members.selectors import consent_holds, members_consenting
from members.services import member_register
from members.services.consents import consent_record, current_states, provision_make
from members.tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db
MAIL = Consent.Purpose.MAIL_MAGAZINE


def test_registration_records_every_purpose_asked_and_the_flags_follow():
    member = member_register(
        member=Member(),
        terms_version="2026-12",
        personal={"name": "山田 太郎"},
        consents={MAIL: True, "direct_mail": False, "targeted_offers": False, "analysis": True},
        channel=Consent.Channel.SITE,
    )
    rows = list(Consent.objects.filter(member=member).order_by("purpose"))
    assert [(row.purpose, row.given, row.channel, row.policy_version) for row in rows] == [
        ("analysis", True, "site", "2026-12"),
        ("direct_mail", False, "site", "2026-12"),
        ("mail_magazine", True, "site", "2026-12"),
        ("targeted_offers", False, "site", "2026-12"),
    ]
    member.refresh_from_db()
    assert (member.opt_in_mail_magazine, member.opt_in_direct_mail) == (True, False)


def test_only_a_change_is_recorded_with_the_staff_member():
    member = MemberFactory()
    staff = UserFactory()
    consent_record(member=member, choices={MAIL: True}, channel="counter", staff=staff)
    assert consent_record(member=member, choices={MAIL: True}, channel="counter", staff=staff) == []
    consent_record(member=member, choices={MAIL: False}, channel="site")
    assert list(Consent.objects.filter(member=member).values_list("given", "channel", "staff")) == [
        (False, "site", None),
        (True, "counter", staff.pk),
    ]
    assert Member.objects.get(pk=member.pk).opt_in_mail_magazine is False


def test_a_use_reads_the_ledger_not_the_flags():
    member = MemberFactory()
    Member.objects.filter(pk=member.pk).update(opt_in_mail_magazine=True)  # a flag without a row: not consent
    assert not consent_holds(member_id=member.pk, purpose=MAIL)
    consent_record(member=member, choices={MAIL: True}, channel="site")
    assert consent_holds(member_id=member.pk, purpose=MAIL)
    consent_record(member=member, choices={MAIL: False}, channel="site")
    assert not consent_holds(member_id=member.pk, purpose=MAIL)
    assert not members_consenting(Member.objects.all(), purpose=MAIL).exists()


def test_withdrawal_of_membership_ends_every_purpose():
    member = MemberFactory()
    party = ThirdParty.objects.create(name="分析会社", purpose="商圏分析", items="年代, 地域")
    consent_record(member=member, choices={MAIL: True, ("third_party", party.pk): True}, channel="site")
    member_withdraw(member=member, staff=UserFactory())
    states = current_states(member.pk)
    assert {key: row.given for key, row in states.items()} == {MAIL: False, ("third_party", party.pk): False}
    assert not consent_holds(member_id=member.pk, purpose="third_party", third_party_id=party.pk)


def test_provision_gives_only_consenting_members_and_is_recorded():
    party = ThirdParty.objects.create(name="分析会社", purpose="商圏分析", items="年代, 地域")
    yes, no, changed_mind = MemberFactory(postal_code="150-0001", birth_year=1985), MemberFactory(), MemberFactory()
    for member in (yes, changed_mind):
        consent_record(member=member, choices={("third_party", party.pk): True}, channel="site")
    consent_record(member=changed_mind, choices={("third_party", party.pk): False}, channel="site")
    staff = UserFactory()
    provision, rows = provision_make(third_party=party, staff=staff)
    assert [row[0] for row in rows] == [yes.pseudonym]
    assert rows[0][3] == "150" and rows[0][2].endswith("0s")
    record = Provision.objects.get()
    assert (record.member_ids, record.members_count, record.staff) == ([yes.pk], 1, staff)
    assert (record.keep_until.year - record.at.year) == 3
    assert no.pk not in record.member_ids


def test_the_admin_provides_a_csv_and_shows_who_agreed(admin_client):
    party = ThirdParty.objects.create(name="分析会社", purpose="商圏分析", items="年代")
    member = MemberFactory()
    consent_record(member=member, choices={("third_party", party.pk): True}, channel="counter")
    response = admin_client.post("/admin/members/thirdparty/", {"action": "provide", "_selected_action": [party.pk]})
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][0] == "pseudonym" and lines[1][0] == member.pseudonym
    page = admin_client.get("/admin/members/consent/").content.decode()
    assert member.pseudonym in page


def test_the_admin_member_form_records_the_boxes_as_counter_consent(admin_client, admin_user):
    member = MemberFactory()
    consent_record(member=member, choices={MAIL: False}, channel="site")
    from members.services.consents import consent_record_flags

    member.opt_in_mail_magazine = True
    consent_record_flags(member=member, channel="counter", staff=admin_user)
    newest = Consent.objects.filter(member=member).first()
    assert (newest.given, newest.channel, newest.staff) == (True, "counter", admin_user)


@pytest.mark.postgres
def test_the_ledger_is_append_only_on_postgres():
    member = MemberFactory()
    (row,) = consent_record(member=member, choices={MAIL: True}, channel="site")
    with pytest.raises(DatabaseError), transaction.atomic():
        Consent.objects.filter(pk=row.pk).update(given=False)
    with pytest.raises(DatabaseError), transaction.atomic():
        Consent.objects.filter(pk=row.pk).delete()
