"""A store in two programmes: the shopping street's shared one and its company's own. An earn credits each
at its rate there, the receipt lists both; a spend names its programme (the primary one when it names
none); a void takes both back; a retry counts nowhere twice."""

import pytest

from api.tests.conftest import Till, now_iso
from points.models import Account, Entry, Participation
from points.tests.factories import ProgrammeFactory, TerminalFactory, make_card, make_staff
from stores.services import terminal_issue_secret
from till.services import till_earn

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(store):
    """The department store's own programme: 3% at this store, no spending of it here."""
    company = ProgrammeFactory(code="DEPT", name="百貨店ポイント")
    Participation.objects.create(programme=company, store=store, earn_rate_bp=300)
    return company


@pytest.fixture
def till(client, store, company):
    terminal = TerminalFactory(store=store)
    return Till(client, terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


def balances(card):
    return dict(Account.objects.filter(member=card.member).values_list("programme__code", "balance"))


def test_an_earn_credits_each_programme_at_its_rate_and_the_receipt_lists_both(till, programme, company):
    card = make_card()

    response = till.earn(number=card.number, amount=10_000)

    assert response.status_code == 201, response.content
    receipt = response.json()
    # the street's programme (1%, the store's own rate) first, as the store joined it first
    assert [
        (line["programme"], line["name"], line["points"]["total"], line["balance"]) for line in receipt["programmes"]
    ] == [
        (programme.code, programme.name, 100, 100),
        ("DEPT", "百貨店ポイント", 300, 300),
    ]
    assert receipt["points"]["total"] == 100 and receipt["balance"] == 100
    assert all(line["expiring_soon"] == [] for line in receipt["programmes"])
    assert balances(card) == {programme.code: 100, "DEPT": 300}
    # one member, one set of personal data and cards, an account in each programme
    assert Account.objects.filter(member=card.member).count() == 2


def test_a_retried_earn_counts_in_neither_programme_twice(till, programme, company):
    card = make_card()

    at = now_iso()
    first = till.earn(number=card.number, amount=10_000, key="same-key", occurred_at=at)
    again = till.earn(number=card.number, amount=10_000, key="same-key", occurred_at=at)

    assert first.json() == again.json()
    assert balances(card) == {programme.code: 100, "DEPT": 300}
    # and the till's own retry path (outside the API's record) replays both programmes' parts
    store_terminal = till.terminal
    store_terminal.store.__dict__.pop("_participations", None)
    replayed = till_earn(
        terminal=store_terminal,
        card_type="transit_ic",
        number=card.number,
        amount_yen=10_000,
        idempotency_key="k-direct",
    )
    twice = till_earn(
        terminal=store_terminal,
        card_type="transit_ic",
        number=card.number,
        amount_yen=10_000,
        idempotency_key="k-direct",
    )
    assert (
        [line.posting.points for line in twice.lines] == [line.posting.points for line in replayed.lines] == [100, 300]
    )
    assert twice.lines[1].posting.replayed
    assert balances(card) == {programme.code: 200, "DEPT": 600}


def test_a_void_takes_the_purchase_back_in_both_programmes(till, programme, company):
    card = make_card()
    receipt = till.earn(number=card.number, amount=10_000).json()

    voided = till.void(receipt["transaction_id"])

    assert voided.status_code == 201, voided.content
    assert [(line["programme"], line["points"]["total"]) for line in voided.json()["programmes"]] == [
        (programme.code, -100),
        ("DEPT", -300),
    ]
    assert balances(card) == {programme.code: 0, "DEPT": 0}
    assert Entry.objects.filter(kind=Entry.Kind.VOID).count() == 2


def test_a_spend_is_in_the_programme_it_names_or_else_the_primary_one(till, programme, company, store):
    card = make_card()
    till.earn(number=card.number, amount=10_000)
    Participation.objects.filter(programme=company, store=store).update(accepts_spend=True)

    primary = till.spend(number=card.number, points=30)
    named = till.spend(number=card.number, points=200, programme="DEPT")
    unknown = till.spend(number=card.number, points=1, programme="NOPE")

    assert primary.status_code == 201 and named.status_code == 201, (primary.content, named.content)
    assert [line["programme"] for line in named.json()["programmes"]] == ["DEPT"]
    assert balances(card) == {programme.code: 70, "DEPT": 100}
    assert unknown.status_code == 403, unknown.content
    assert unknown.json()["error"]["code"] == "store_not_in_programme"
    assert "プログラム" in unknown.json()["error"]["message"]


def test_a_store_can_make_its_company_programme_its_primary_one(till, programme, company, store):
    Participation.objects.filter(programme=company, store=store).update(is_primary=True)
    card = make_card()

    receipt = till.earn(number=card.number, amount=10_000).json()

    assert [line["programme"] for line in receipt["programmes"]] == ["DEPT", programme.code]
    assert receipt["points"]["total"] == 300


def test_the_card_lookup_shows_each_programme(till, programme, company):
    card = make_card()
    till.earn(number=card.number, amount=10_000)

    found = till.get(f"cards/transit_ic/{card.number}").json()

    assert [(line["programme"], line["balance"], line["points"]) for line in found["programmes"]] == [
        (programme.code, 100, None),
        ("DEPT", 300, None),
    ]
    assert found["balance"] == 100


def test_a_purchase_that_earns_only_in_the_second_programme_is_still_created_and_voidable(
    till, programme, company, store
):
    # the street gives nothing at this store (0%), the company 3%
    Participation.objects.filter(programme=programme, store=store).update(earn_rate_bp=0)
    card = make_card()

    response = till.earn(number=card.number, amount=10_000)

    assert response.status_code == 201, response.content
    receipt = response.json()
    assert [line["points"]["total"] for line in receipt["programmes"]] == [0, 300]
    assert receipt["transaction_id"] is not None
    voided = till.void(receipt["transaction_id"])
    assert voided.status_code == 201, voided.content
    assert balances(card) == {programme.code: 0, "DEPT": 0}
