"""Members and their cards, built in memory the way members.services would write them."""

from __future__ import annotations

import datetime
import random

from members import services as member_services
from members.models import Card, Member
from points.seeding import vocabulary as words
from points.seeding.loader import Ids

PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
IDM_MAKERS = ["01", "14", "2E", "12", "06"]


def _luhn_digit(digits: str) -> str:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


class People:
    """Invents people and card numbers; never the same phone twice in one run, nor a card number already held."""

    def __init__(self, *, rng: random.Random, ids: Ids, now: datetime.datetime):
        self.rng = rng
        self.ids = ids
        self.now = now
        self.today = now.date()
        self._phones: set[str] = set()
        # Blind indexes of the card numbers already held, so that a second run on the same street (a
        # million members in passes: some 10^11 programme card numbers) never draws one of them again.
        self._numbers: set[str] = set(Card.objects.values_list("number_bidx", flat=True))

    def member(self, *, registered: bool, joined_at: datetime.datetime) -> Member:
        rng = self.rng
        member = Member(
            id=self.ids.take(Member),
            pseudonym="M" + "".join(rng.choices(PSEUDONYM_ALPHABET, k=10)),
            status=Member.Status.UNREGISTERED,
            created_at=joined_at,
        )
        if registered:
            self._register(member, joined_at)
        return member

    def _register(self, member: Member, at: datetime.datetime) -> None:
        rng = self.rng
        gender = rng.choices(
            [Member.Gender.FEMALE, Member.Gender.MALE, Member.Gender.OTHER, Member.Gender.UNKNOWN],
            cum_weights=[58, 96, 97, 100],
        )[0]
        feminine = gender == Member.Gender.FEMALE or (gender != Member.Gender.MALE and rng.random() < 0.5)
        given = rng.choice(words.FEMALE_NAMES if feminine else words.MALE_NAMES)
        surname = rng.choice(words.SURNAMES)
        age = 18 + int(rng.betavariate(2.2, 1.8) * 70)
        birth_date = self.today - datetime.timedelta(days=age * 365 + rng.randrange(365))
        town, postal_code = rng.choice(words.TOWNS)
        address = (
            f"{words.PREFECTURE_CITY}{town}{rng.randrange(1, 6)}丁目{rng.randrange(1, 30)}番{rng.randrange(1, 20)}号"
        )
        if rng.random() < 0.35:
            address += f" {rng.choice(words.BUILDINGS)}{rng.randrange(1, 6)}0{rng.randrange(1, 9)}"
        email = ""
        if rng.random() < 0.8:
            email = f"{given[2]}.{surname[2]}{rng.randrange(1, 1000)}@{rng.choice(words.MAIL_DOMAINS)}"
        # Encrypted once each when the row is inserted; the blind indexes are set here.
        member_services.member_set_personal_data(
            member=member,
            save=False,
            name=f"{surname[0]} {given[0]}",
            name_kana=f"{surname[1]} {given[1]}",
            address=address,
            phone=self._phone(),
            email=email,
            birth_date=birth_date,
        )
        member.status = Member.Status.ACTIVE
        member.gender = gender
        member.birth_year, member.birth_month = birth_date.year, birth_date.month
        member.postal_code = postal_code
        member.terms_version = words.TERMS_VERSION
        member.registered_at = at
        # Members from before the current terms agreed to them when they came into force.
        member.terms_agreed_at = max(at, words.TERMS_IN_FORCE + datetime.timedelta(seconds=rng.randrange(90 * 86400)))
        member.terms_agreed_at = min(member.terms_agreed_at, self.now)
        member.opt_in_mail_magazine = rng.random() < 0.45
        member.opt_in_direct_mail = rng.random() < 0.25
        member.opt_in_targeted_offers = rng.random() < 0.35

    def _phone(self) -> str:
        while True:
            if self.rng.random() < 0.9:
                phone = f"0{self.rng.choice('987')}0-{self.rng.randrange(10000):04d}-{self.rng.randrange(10000):04d}"
            else:
                phone = f"042-5{self.rng.randrange(10, 100)}-{self.rng.randrange(10000):04d}"
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def card(self, *, member_id: int, card_type: str, created_at: datetime.datetime, store_code: str = "") -> Card:
        while True:
            if card_type == Card.CardType.TRANSIT_IC:
                raw = f"01{self.rng.choice(IDM_MAKERS)}{self.rng.getrandbits(48):012X}"
            else:
                body = f"9810{self.rng.randrange(10**11):011d}"
                raw = body + _luhn_digit(body)
            number = member_services.card_number_normalise(number=raw, card_type=card_type)
            index = member_services.card_number_index(number)
            if index not in self._numbers:
                self._numbers.add(index)
                break
        return Card(
            id=self.ids.take(Card),
            member_id=member_id,
            card_type=card_type,
            number=number,
            number_bidx=index,
            number_last4=number[-4:],
            status=Card.Status.ACTIVE,
            first_seen_store_code=store_code,
            created_at=created_at,
        )
