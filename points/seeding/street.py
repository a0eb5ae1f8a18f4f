"""The shopping street: one programme, its merchants, stores, terminals and participations."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from points.models import Participation, Programme
from points.seeding import vocabulary as words
from points.seeding.loader import Batch, Ids
from points.seeding.vocabulary import Trade
from stores.models import Merchant, Store, Terminal


@dataclass(frozen=True)
class Shop:
    """What the history needs to know about a store, without touching the database."""

    id: int
    code: str
    category: str
    earn_rate_bp: int
    terminal_ids: tuple[int, ...]
    trade: Trade


@dataclass(frozen=True)
class Street:
    programme: Programme
    shops: list[Shop]
    created: bool


def street_get_or_build(*, rng: random.Random, ids: Ids, stores: int, opened_before: datetime.date) -> Street:
    """The demo programme and its stores: created on the first run, reused by later ones."""
    programme = Programme.objects.filter(code=words.PROGRAMME_CODE).first()
    created = programme is None
    if created:
        programme = Programme.objects.create(code=words.PROGRAMME_CODE, name=words.PROGRAMME_NAME, expiry_months=24)
    shops = _shops_of(programme)
    if not shops:
        _build(rng=rng, ids=ids, programme=programme, count=stores, opened_before=opened_before)
        shops = _shops_of(programme)
    return Street(programme=programme, shops=shops, created=created)


def _shops_of(programme: Programme) -> list[Shop]:
    participations = (
        Participation.objects.filter(programme=programme, accepts_spend=True, store__status=Store.Status.ACTIVE)
        .select_related("store")
        .order_by("store_id")
    )
    terminals: dict[int, list[int]] = {}
    for store_id, terminal_id in (
        Terminal.objects.filter(store__participation__programme=programme, status=Terminal.Status.ACTIVE)
        .order_by("id")
        .values_list("store_id", "id")
    ):
        terminals.setdefault(store_id, []).append(terminal_id)
    return [
        Shop(
            id=p.store.id,
            code=p.store.code,
            category=p.store.category,
            earn_rate_bp=p.store.earn_rate_bp,
            terminal_ids=tuple(terminals.get(p.store.id, ())),
            trade=words.TRADES.get(p.store.category, words.TRADES["other"]),
        )
        for p in participations
    ]


def shop_names(count: int) -> list[tuple[str, str, str, int | None]]:
    """(category, name, kana, index of the shop this one is a branch of) for `count` shops.

    Round-robin over the categories, so even ten shops make a varied street;
    past the end of the list, merchants open second shops.
    """
    queues = {category: list(names) for category, names in words.SHOPS.items()}
    picked: list[tuple[str, str, str, int | None]] = []
    while queues and len(picked) < count:
        for category in list(queues):
            if len(picked) == count:
                break
            name, kana = queues[category].pop(0)
            picked.append((category, name, kana, None))
            if not queues[category]:
                del queues[category]
    base = len(picked)
    for n in range(count - base):
        category, name, kana, _ = picked[n % base]
        suffix, suffix_kana = words.BRANCH_SUFFIXES[(n // base) % len(words.BRANCH_SUFFIXES)]
        picked.append((category, f"{name} {suffix}", kana + suffix_kana, n % base))
    return picked


def invoice_registration_number(rng: random.Random) -> str:
    """T + a 13-digit number whose first digit checks the other twelve, as the NTA issues them."""
    body = f"{rng.randrange(10**11, 10**12)}"
    weighted = sum(int(digit) * (1 if position % 2 else 2) for position, digit in enumerate(reversed(body), start=1))
    return f"T{9 - weighted % 9}{body}"


def _person(rng: random.Random) -> tuple[str, str]:
    surname, surname_kana, _ = rng.choice(words.SURNAMES)
    given, given_kana, _ = rng.choice(words.MALE_NAMES + words.FEMALE_NAMES)
    return f"{surname} {given}", f"{surname_kana} {given_kana}"


def _build(*, rng: random.Random, ids: Ids, programme: Programme, count: int, opened_before: datetime.date) -> None:
    batch = Batch()
    merchants: list[Merchant] = []
    for n, (category, name, kana, branch_of) in enumerate(shop_names(count), start=1):
        town, postal_code = words.TOWNS[0] if n % 3 else words.TOWNS[1]
        address = f"{words.PREFECTURE_CITY}{town}{1 + n % 3}丁目{1 + n // 3 % 20}-{rng.randrange(1, 30)}"
        if branch_of is None:
            merchant = batch.add(_merchant(rng, ids, name=name, kana=kana, postal_code=postal_code, address=address))
            merchants.append(merchant)
        else:
            merchant = merchants[branch_of]
        contract_start = opened_before - datetime.timedelta(days=rng.randrange(30, 3650))
        store_id = ids.take(Store)
        store = batch.add(
            Store(
                id=store_id,
                merchant_id=merchant.id,
                code=f"HK{store_id:04d}",
                name=name,
                name_kana=kana,
                category=category,
                postal_code=postal_code,
                address=f"{address} {words.STREET_NAME}",
                phone=f"042-5{rng.randrange(10, 100)}-{rng.randrange(10000):04d}",
                earn_rate_bp=200 if rng.random() < 0.15 else 100,
                contract_start=contract_start,
            )
        )
        batch.add(
            Participation(
                id=ids.take(Participation),
                programme_id=programme.id,
                store_id=store.id,
                accepts_spend=True,
                joined_on=contract_start,
            )
        )
        for till in range(1, 3 if rng.random() < 0.35 else 2):
            batch.add(
                Terminal(
                    id=ids.take(Terminal),
                    store_id=store.id,
                    code=f"{store.code}-{till}",
                    name=f"レジ{till}",
                    serial_number=f"HT-{rng.randrange(10**7):07d}",
                    status=Terminal.Status.ACTIVE,
                )
            )
    batch.write([Merchant, Store, Participation, Terminal])


def _merchant(rng: random.Random, ids: Ids, *, name: str, kana: str, postal_code: str, address: str) -> Merchant:
    representative, representative_kana = _person(rng)
    form = rng.random()
    if form < 0.3:
        company, company_kana, holder = f"株式会社{name}", f"カブシキガイシャ{kana}", f"カ）{kana}"
    elif form < 0.55:
        company, company_kana, holder = f"有限会社{name}", f"ユウゲンガイシャ{kana}", f"ユ）{kana}"
    else:  # a sole proprietor trades under the shop's name and banks under their own
        company, company_kana, holder = name, kana, representative_kana
    bank_code, _bank = rng.choice(words.BANKS)
    merchant_id = ids.take(Merchant)
    return Merchant(
        id=merchant_id,
        code=f"HKM{merchant_id:05d}",
        name=company,
        name_kana=company_kana,
        invoice_registration_number=invoice_registration_number(rng),
        representative=representative,
        postal_code=postal_code,
        address=address,
        phone=f"042-5{rng.randrange(10, 100)}-{rng.randrange(10000):04d}",
        email=f"shop{merchant_id:05d}@example.jp",
        bank_code=bank_code,
        bank_branch_code=f"{rng.randrange(1, 999):03d}",
        bank_account_type=Merchant.AccountType.ORDINARY if rng.random() < 0.85 else Merchant.AccountType.CURRENT,
        bank_account_number=f"{rng.randrange(10**7):07d}",
        bank_account_holder_kana=holder[:100],
    )
