from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from members.models import Card, CardEvent, Member
from members.services import card_number_index, personal_data_indexes
from points import services
from points.models import Account, Entry, Lot, Programme
from stores.models import Merchant, Store, Terminal

SMALL_STREET = ["--members", "200", "--months", "2", "--stores", "10"]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def seeded(db):
    return seed(*SMALL_STREET)


def test_street_has_stores_each_with_an_active_terminal(seeded):
    programme = Programme.objects.get(code="SHOTENGAI")

    stores = Store.objects.filter(programmes=programme)

    assert programme.expiry_months == 24
    assert stores.count() == 10
    assert len({store.category for store in stores}) == 10
    for store in stores:
        assert store.terminals.filter(status=Terminal.Status.ACTIVE, secret_hash__isnull=True).exists()
        store.full_clean()
        store.merchant.full_clean()
    assert set(Store.objects.values_list("earn_rate_bp", flat=True)) <= {100, 200}


def test_invoice_numbers_carry_their_check_digit(seeded):
    for number in Merchant.objects.values_list("invoice_registration_number", flat=True):
        digits = number[1:]
        weighted = sum(int(d) * (1 if i % 2 else 2) for i, d in enumerate(reversed(digits[1:]), start=1))
        assert int(digits[0]) == 9 - weighted % 9


def test_every_member_holds_a_card_and_registered_members_have_personal_data(seeded):
    members = Member.objects.all()

    assert members.count() == 200
    assert not members.filter(cards__isnull=True).exists()
    registered = members.filter(status=Member.Status.ACTIVE)
    assert 0 < members.filter(status=Member.Status.UNREGISTERED).count() < registered.count()
    member = registered.exclude(email="").first()
    assert member.name and member.name_kana and member.address and member.birth_date
    assert member.phone.startswith(("090-", "080-", "070-", "042-"))
    assert member.terms_version == "2024-04"
    assert (member.birth_year, member.birth_month) == (member.birth_date.year, member.birth_date.month)


def test_a_seeded_member_is_found_by_phone(seeded):
    member = Member.objects.filter(status=Member.Status.ACTIVE).order_by("-id").first()

    found = Member.objects.filter(**personal_data_indexes({"phone": member.phone}))

    assert list(found) == [member]


def test_cards_are_found_by_number(seeded):
    card = Card.objects.filter(card_type=Card.CardType.TRANSIT_IC).first()

    assert card.number.startswith("01") and len(card.number) == 16
    assert Card.objects.get(number_bidx=card_number_index(card.number)) == card


def test_history_holds_earnings_spending_adjustments_and_voids(seeded):
    kinds = set(Entry.objects.values_list("kind", flat=True))

    assert {"earn", "spend", "adjust", "void"} <= kinds
    adjustment = Entry.objects.filter(kind="adjust").select_related("staff").first()
    assert adjustment.staff.username == "seed" and adjustment.reason
    void = Entry.objects.filter(kind="void").first()
    assert void.reverses.kind == "earn" and void.points == -void.reverses.points
    assert not Entry.objects.filter(occurred_at__gt=timezone.now()).exists()


def test_lost_cards_were_replaced(seeded):
    old = Card.objects.filter(status=Card.Status.REPLACED).select_related("replaced_by").first()

    assert old.replaced_by.status == Card.Status.ACTIVE
    assert old.replaced_by.member_id == old.member_id
    assert CardEvent.objects.filter(card=old, kind=CardEvent.Kind.REPLACED, other_card=old.replaced_by).exists()
    assert CardEvent.objects.filter(card=old.replaced_by, kind=CardEvent.Kind.ATTACHED).exists()


def test_the_seeded_ledger_passes_verification(seeded):
    call_command("verify_ledger", stdout=StringIO())


def test_the_services_carry_on_from_the_seeded_ledger(seeded):
    account = Account.objects.filter(balance__gte=10).order_by("id").first()
    card = Card.objects.filter(member_id=account.member_id, status=Card.Status.ACTIVE).first()
    store = Store.objects.first()
    oldest = Lot.objects.filter(account=account, remaining__gt=0).order_by(*services.LOT_ORDER).first()

    services.points_earn(card=card, store=store, amount_yen=1000, idempotency_key="after-seed-earn")
    services.points_spend(card=card, store=store, points=1, idempotency_key="after-seed-spend")

    account.refresh_from_db()
    oldest.refresh_from_db()
    assert Entry.objects.filter(idempotency_key__startswith="after-seed").count() == 2
    assert oldest.uses.filter(entry__idempotency_key="after-seed-spend").exists()
    call_command("verify_ledger", stdout=StringIO())


@pytest.mark.django_db
def test_if_empty_seeds_an_empty_database():
    seed("--if-empty", "--members", "5", "--months", "1", "--stores", "3")

    assert Programme.objects.get().code == "SHOTENGAI"
    assert (Store.objects.count(), Member.objects.count()) == (3, 5)


def test_if_empty_adds_nothing_to_a_seeded_database(seeded):
    counts = (Member.objects.count(), Entry.objects.count(), Store.objects.count())

    output = seed("--if-empty", *SMALL_STREET)

    assert "nothing seeded" in output
    assert (Member.objects.count(), Entry.objects.count(), Store.objects.count()) == counts


def test_a_second_run_adds_members_to_the_same_street(seeded):
    stores = Store.objects.count()

    seed("--members", "50", "--months", "1")

    assert Member.objects.count() == 250
    assert Store.objects.count() == stores
    call_command("verify_ledger", stdout=StringIO())


def test_the_summary_reports_counts_and_rate_without_personal_data(seeded):
    phones = [m.phone for m in Member.objects.exclude(phone="")[:20]]

    assert "200 (" in seeded and "entries per second" in seeded
    assert not any(phone in seeded for phone in phones)


def test_a_card_number_already_held_is_never_drawn_again(seeded):
    import random

    from points.seeding.loader import Ids
    from points.seeding.people import People

    held = Card.objects.filter(card_type=Card.CardType.PROGRAMME).order_by("pk").first()
    drawn = random.Random(5)
    # The first programme card number this generator draws is the one held; the next is new.
    body = held.number[:-1][4:]
    draws = iter([int(body), drawn.randrange(10**11)])
    rng = random.Random(5)
    rng.randrange = lambda *args: next(draws)
    people = People(rng=rng, ids=Ids([Card]), now=timezone.now())

    card = people.card(member_id=held.member_id, card_type=Card.CardType.PROGRAMME, created_at=timezone.now())

    assert card.number != held.number
    assert card.number_bidx != held.number_bidx
