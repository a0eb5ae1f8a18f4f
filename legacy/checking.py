"""Checking an old system's files against each other, the programme and the database, writing nothing.

Every problem is named by file, row and column (in the user's language, Japanese by default); one problem
refuses the whole import. What passes is the plan the import writes, and the figures of the reconciliation:
points by month of expiry and by rank, as the rows add them up, next to the files' own control totals.
"""

from __future__ import annotations

import datetime
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from legacy.formats import (
    CARDS,
    LOTS,
    MEMBERS,
    RANKS,
    TOTALS,
    Problems,
    RowTooWide,
    Table,
    ascii_text,
    choice_value,
    date_value,
    flag_value,
    labelled_choices,
    month_value,
    table_read,
    whole_value,
)
from legacy.models import ImportBatch, LegacyMember
from members import validation
from members.models import Card, Member
from members.services import CardNumberError, card_number_checked
from points.models import Participation, Programme
from points.services import MAX_POINTS
from ranks.models import Rank

Progress = Callable[..., None]
LEGACY_ID_MAX = 40
TERMS_VERSION_MAX = Member._meta.get_field("terms_version").max_length
# Batches whose members count as brought over (a rejected or rolled-back batch left none).
LIVE = (ImportBatch.Status.IMPORTING, ImportBatch.Status.IMPORTED, ImportBatch.Status.ROLLING_BACK)
NO_RANK = ""
_SEPARATORS = re.compile(r"[\s-]")


class Rejected(Exception):
    """The files cannot be imported; `problems` says why, row by row."""

    def __init__(self, problems: Problems):
        self.problems = problems
        super().__init__("; ".join(problems.lines()[:3]))


@dataclass
class MemberRow:
    row: int
    legacy_id: str
    personal: dict
    attributes: dict
    consents: dict
    terms_version: str
    registered_on: datetime.date | None

    @property
    def registering(self) -> bool:
        return bool(self.terms_version) or any(value for value in self.personal.values())


@dataclass
class CardRow:
    row: int
    member: int  # position in Plan.members
    card_type: str
    number: str
    index: str
    status: str


@dataclass
class RankRow:
    row: int
    member: int
    rank: Rank
    valid_until: datetime.date


@dataclass
class Lots:
    """The lots as columns (a million rows stay small): member and card by position, store id (0: none),
    points, dates as ordinals, and each lot's row in lots.csv."""

    member: array = field(default_factory=lambda: array("l"))
    card: array = field(default_factory=lambda: array("l"))
    store: array = field(default_factory=lambda: array("q"))
    points: array = field(default_factory=lambda: array("q"))
    earned: array = field(default_factory=lambda: array("l"))
    expires: array = field(default_factory=lambda: array("l"))
    row: array = field(default_factory=lambda: array("l"))

    def __len__(self) -> int:
        return len(self.points)


@dataclass
class Control:
    row: int
    kind: str  # expiry_month, rank or all
    key: str
    points: int
    count: int | None


@dataclass
class Plan:
    programme: Programme
    today: datetime.date
    members: list[MemberRow] = field(default_factory=list)
    cards: list[CardRow] = field(default_factory=list)
    lots: Lots = field(default_factory=Lots)
    ranks: list[RankRow] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    # The rows' own figures: month of expiry -> [lots, points]; rank name ("" for none) -> [members, points].
    by_month: dict[str, list[int]] = field(default_factory=dict)
    by_rank: dict[str, list[int]] = field(default_factory=dict)
    # Lookups made while reading: old member number -> position in members, card number -> position in cards,
    # points per member (by position); and the headers problems found later are named by.
    member_of: dict[str, int] = field(default_factory=dict)
    card_of: dict[str, int] = field(default_factory=dict)
    member_points: array = field(default_factory=lambda: array("q"))
    member_header: str = ""
    card_header: str = ""
    controls_header: dict[str, str] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return sum(self.lots.points)


def legacy_plan(*, programme: Programme, source, today: datetime.date | None = None, progress=None) -> Plan:
    """Read and check every file of `source`; the plan, or Rejected with every problem."""
    progress = progress or (lambda *args, **kwargs: None)
    problems = Problems()
    plan = Plan(programme=programme, today=today or timezone.localdate())
    tables = {}
    for spec in (MEMBERS, CARDS, LOTS, RANKS, TOTALS):
        data = source.read(spec.name)
        if data is None:
            if spec.required:
                problems.add(spec.name, None, "", gettext("The file is missing."))
            continue
        tables[spec.name] = table_read(spec, data, problems)
    if LOTS.name in tables and tables[LOTS.name] is not None:
        lots = tables[LOTS.name]
        if not lots.has("card_number") and not lots.has("legacy_id"):
            problems.add(
                LOTS.name, None, "", gettext("The file needs the card number or the old member number column.")
            )
            tables[LOTS.name] = None
    if tables.get(MEMBERS.name) is None:
        raise Rejected(problems)
    steps = [
        (MEMBERS, _members),
        (CARDS, _cards),
        (LOTS, _lots),
        (RANKS, _ranks),
        (TOTALS, _controls),
    ]
    for spec, check in steps:
        table = tables.get(spec.name)
        if table is None:
            continue
        progress(f"reading {spec.name}", 0, table.count_rows())
        try:
            check(table, plan, problems, progress)
        except RowTooWide as wide:
            problems.add(
                spec.name,
                wide.row,
                "",
                gettext("The row has more cells (%(cells)d) than the header has columns (%(columns)d).")
                % {"cells": wide.cells, "columns": wide.columns},
            )
    _figures(plan)
    # Rows already refused are missing from the sums: the control totals are compared only with whole files.
    if TOTALS.name in tables and tables[TOTALS.name] is not None and not problems:
        _reconcile_controls(plan, problems)
    if problems:
        raise Rejected(problems)
    return plan


def legacy_plan_recheck(plan: Plan) -> None:
    """Check again what the database may have changed since the plan was made (another import of the same
    old numbers, a card given out at a till): inside the import's transaction, once the programme is locked."""
    problems = Problems()
    _members_known(plan, problems)
    _cards_known(plan, problems)
    if problems:
        raise Rejected(problems)


# --- members.csv --------------------------------------------------------------------------------------------

GENDERS = labelled_choices(Member.Gender.choices)
GENDER_MESSAGE = gettext_lazy("Enter female, male or other (or leave it empty).")
PERSONAL_TEXT = ("name", "name_kana", "phone", "email", "address")
CONSENTS = ("opt_in_mail_magazine", "opt_in_direct_mail", "opt_in_targeted_offers")


def _members(table: Table, plan: Plan, problems: Problems, progress) -> None:
    at = {column.name: index for index, column in enumerate(MEMBERS.columns)}
    present = {name: table.has(name) for name in at}
    seen: dict[str, int] = {}
    for number, values in table.rows():

        def fail(column: str, message, number=number) -> None:
            problems.add(MEMBERS.name, number, table.header(column), message)

        legacy_id = _legacy_id(values[at["legacy_id"]], fail)
        if legacy_id:
            if legacy_id in seen:
                fail("legacy_id", gettext("This old member number is also on row %(row)s.") % {"row": seen[legacy_id]})
            else:
                seen[legacy_id] = number
        personal, attributes, consents = {}, {}, {}
        for name in PERSONAL_TEXT:
            if present[name]:
                try:
                    personal[name] = validation.field_clean(name, values[at[name]]) or ""
                except ValidationError as error:
                    for message in error.messages:
                        fail(name, message)
        if values[at["birth_date"]]:
            try:
                born = date_value(values[at["birth_date"]])
            except ValueError as error:
                fail("birth_date", str(error))
            else:
                if born > plan.today:
                    fail("birth_date", gettext("The date is in the future."))
                personal["birth_date"] = born
                attributes.update(birth_year=born.year, birth_month=born.month)
        if values[at["postal_code"]]:
            try:
                attributes["postal_code"] = validation.field_clean("postal_code", values[at["postal_code"]])
            except ValidationError as error:
                for message in error.messages:
                    fail("postal_code", message)
        try:
            attributes["gender"] = choice_value(values[at["gender"]], GENDERS, GENDER_MESSAGE)
        except ValueError as error:
            fail("gender", str(error))
        terms_version = values[at["terms_version"]]
        if len(terms_version) > TERMS_VERSION_MAX:
            fail("terms_version", _too_long(TERMS_VERSION_MAX))
        registered_on = None
        if values[at["registered_on"]]:
            try:
                registered_on = date_value(values[at["registered_on"]])
            except ValueError as error:
                fail("registered_on", str(error))
            else:
                if registered_on > plan.today:
                    fail("registered_on", gettext("The date is in the future."))
        for name in CONSENTS:
            try:
                consents[name] = flag_value(values[at[name]])
            except ValueError as error:
                fail(name, str(error))
        row = MemberRow(number, legacy_id, personal, attributes, consents, terms_version, registered_on)
        if row.registering:
            name = personal.get("name", "") if present["name"] else None
            for column, error in validation.registration_errors(terms_version=terms_version, name=name).items():
                for message in error.messages:
                    fail(column, message)
        plan.members.append(row)
    plan.member_of = {row.legacy_id: position for position, row in enumerate(plan.members) if row.legacy_id}
    plan.member_header = table.header("legacy_id")
    _members_known(plan, problems)


def _legacy_id(value: str, fail) -> str:
    legacy_id = ascii_text(value)
    if not legacy_id:
        fail("legacy_id", gettext("Enter the old member number."))
    elif len(legacy_id) > LEGACY_ID_MAX:
        fail("legacy_id", _too_long(LEGACY_ID_MAX))
        return ""
    return legacy_id


def _too_long(limit: int) -> str:
    return gettext("At most %(limit)s characters.") % {"limit": limit}


def _members_known(plan: Plan, problems: Problems) -> None:
    """Old member numbers this programme has already brought over (and not rolled back)."""
    ids = [row.legacy_id for row in plan.members if row.legacy_id]
    for start in range(0, len(ids), 5_000):
        found = LegacyMember.objects.filter(
            batch__programme=plan.programme, batch__status__in=LIVE, legacy_id__in=ids[start : start + 5_000]
        ).values_list("legacy_id", "member__pseudonym")
        for legacy_id, pseudonym in found:
            row = plan.members[plan.member_of[legacy_id]]
            problems.add(
                MEMBERS.name,
                row.row,
                plan.member_header,
                gettext("This old member number was already brought over (member %(pseudonym)s).")
                % {"pseudonym": pseudonym},
            )


def _member_position(plan: Plan, legacy_id: str, fail) -> int | None:
    legacy_id = ascii_text(legacy_id)
    if not legacy_id:
        fail("legacy_id", gettext("Enter the old member number."))
        return None
    position = plan.member_of.get(legacy_id)
    if position is None:
        fail("legacy_id", gettext("No member with this old member number in members.csv."))
    return position


# --- cards.csv ----------------------------------------------------------------------------------------------

CARD_TYPES = labelled_choices(
    Card.CardType.choices,
    extra={
        "交通系IC": "transit_ic",
        "交通系ICカード": "transit_ic",
        "IDm": "transit_ic",
        "モバイル": "mobile",
        "QR": "mobile",
    },
)
CARD_TYPE_MESSAGE = gettext_lazy("Enter the card type: transit_ic, programme or mobile.")
CARD_STATUS_MESSAGE = gettext_lazy("Enter the status: active or blocked.")
CARD_STATUSES = labelled_choices(
    [(Card.Status.ACTIVE, Card.Status.ACTIVE.label), (Card.Status.BLOCKED, Card.Status.BLOCKED.label)],
    extra={"": "active", "停止": "blocked", "無効": "blocked", "利用停止": "blocked"},
)


def _cards(table: Table, plan: Plan, problems: Problems, progress) -> None:
    seen: dict[str, int] = {}
    for number, (legacy_id, card_type, card_number, status) in table.rows():

        def fail(column: str, message, number=number) -> None:
            problems.add(CARDS.name, number, table.header(column), message)

        member = _member_position(plan, legacy_id, fail)
        try:
            card_type = choice_value(card_type, CARD_TYPES, CARD_TYPE_MESSAGE)
        except ValueError as error:
            fail("card_type", str(error))
            card_type = None
        try:
            status = choice_value(status, CARD_STATUSES, CARD_STATUS_MESSAGE)
        except ValueError as error:
            fail("status", str(error))
        if card_type is None:
            continue
        try:
            canonical, index = card_number_checked(number=card_number, card_type=card_type)
        except CardNumberError as error:
            fail("number", str(error))
            continue
        if canonical in seen:
            fail("number", gettext("This card number is also on row %(row)s.") % {"row": seen[canonical]})
            continue
        seen[canonical] = number
        if member is not None:
            plan.cards.append(CardRow(number, member, card_type, canonical, index, status))
    plan.card_of = {row.number: position for position, row in enumerate(plan.cards)}
    plan.card_header = table.header("number")
    _cards_known(plan, problems)


def _cards_known(plan: Plan, problems: Problems) -> None:
    """Card numbers the system already knows (a card cannot be in two places)."""
    by_index = {row.index: row for row in plan.cards}
    indexes = list(by_index)
    for start in range(0, len(indexes), 5_000):
        found = Card.objects.filter(number_bidx__in=indexes[start : start + 5_000]).values_list(
            "number_bidx", "member__pseudonym"
        )
        for index, pseudonym in found:
            problems.add(
                CARDS.name,
                by_index[index].row,
                plan.card_header,
                gettext("This card number is already registered (member %(pseudonym)s).") % {"pseudonym": pseudonym},
            )


def _card_position(plan: Plan, number: str) -> int | None:
    card_of = plan.card_of
    found = card_of.get(number)
    if found is None:
        bare = _SEPARATORS.sub("", ascii_text(number))
        found = card_of.get(bare)
        if found is None:
            found = card_of.get(bare.upper())
    return found


# --- lots.csv -----------------------------------------------------------------------------------------------


def _lots(table: Table, plan: Plan, problems: Problems, progress) -> None:
    stores = dict(Participation.objects.filter(programme=plan.programme).values_list("store__code", "store_id"))
    lots, today, by_month = plan.lots, plan.today, plan.by_month
    member_points = plan.member_points = array("q", bytes(8 * len(plan.members)))
    dates: dict[str, datetime.date | str] = {}
    total = table.count_rows()

    def day(text: str) -> datetime.date | str:
        """The date, or the message saying why it is not one (remembered: a file repeats its dates)."""
        found = dates.get(text)
        if found is None:
            try:
                found = date_value(text)
            except ValueError as error:
                found = str(error)
            dates[text] = found
        return found

    for number, (card_text, legacy_text, points_text, earned_text, expires_text, store_text) in table.rows():
        bad = False

        def fail(column: str, message, number=number) -> None:
            nonlocal bad
            bad = True
            problems.add(LOTS.name, number, table.header(column), message)

        member = card = -1
        if card_text:
            position = _card_position(plan, card_text)
            if position is None:
                fail("card_number", gettext("No card with this number in cards.csv."))
            else:
                card, member = position, plan.cards[position].member
        if legacy_text:
            position = _member_position(plan, legacy_text, fail)
            if position is not None:
                if member >= 0 and position != member:
                    fail("legacy_id", gettext("The card number and the old member number name different members."))
                member = position
        elif not card_text:
            fail("card_number", gettext("Enter the card number or the old member number."))
        points = int(points_text) if points_text.isdigit() else -1
        if not 1 <= points <= MAX_POINTS:
            try:
                points = whole_value(points_text, low=1, high=MAX_POINTS)
            except ValueError as error:
                fail("points", str(error))
        earned, expires = day(earned_text), day(expires_text)
        if isinstance(earned, str):
            fail("earned_on", earned)
        elif earned > today:
            fail("earned_on", gettext("The date is in the future."))
        if isinstance(expires, str):
            fail("expires_on", expires)
        elif expires < today:
            fail("expires_on", gettext("These points have already expired; expire them in the old system first."))
        elif not isinstance(earned, str) and expires < earned:
            fail("expires_on", gettext("The validity ends before the points were earned."))
        store = 0
        if store_text:
            store = stores.get(ascii_text(store_text), 0)
            if not store:
                fail("store_code", gettext("No store with this code takes part in the programme."))
        if bad:
            continue
        lots.member.append(member)
        lots.card.append(card)
        lots.store.append(store)
        lots.points.append(points)
        lots.earned.append(earned.toordinal())
        lots.expires.append(expires.toordinal())
        lots.row.append(number)
        key = f"{expires.year:04d}-{expires.month:02d}"
        figures = by_month.setdefault(key, [0, 0])
        figures[0] += 1
        figures[1] += points
        member_points[member] += points
        if number % 100_000 == 0:
            progress(f"reading {LOTS.name}", number, total)


# --- ranks.csv ----------------------------------------------------------------------------------------------


def _ranks(table: Table, plan: Plan, problems: Problems, progress) -> None:
    ladder = {rank.name: rank for rank in Rank.objects.filter(programme=plan.programme)}
    if not ladder:
        problems.add(RANKS.name, None, "", gettext("The programme has no ranks; set up its rank ladder first."))
        return
    names = "、".join(ladder)
    seen: dict[int, int] = {}
    for number, (legacy_id, rank_name, valid_until) in table.rows():

        def fail(column: str, message, number=number) -> None:
            problems.add(RANKS.name, number, table.header(column), message)

        member = _member_position(plan, legacy_id, fail)
        if member is not None:
            if member in seen:
                fail("legacy_id", gettext("This member's rank is also on row %(row)s.") % {"row": seen[member]})
            seen[member] = number
        rank = ladder.get(" ".join(rank_name.split()))
        if rank is None:
            fail("rank", gettext("No rank of this name in the programme (%(names)s).") % {"names": names})
        until = None
        if not valid_until:
            fail("valid_until", gettext("Enter the day until which the rank holds."))
        else:
            try:
                until = date_value(valid_until)
            except ValueError as error:
                fail("valid_until", str(error))
            else:
                if until < plan.today:
                    fail("valid_until", gettext("This rank's validity has already ended."))
        if member is not None and rank is not None:
            plan.ranks.append(RankRow(number, member, rank, until))


# --- totals.csv: the old system's own control totals ---------------------------------------------------------

CONTROL_KINDS = labelled_choices(
    [("expiry_month", "expiry_month"), ("rank", "rank"), ("all", "all")],
    extra={"有効期限月": "expiry_month", "ランク": "rank", "合計": "all", "全体": "all"},
)
CONTROL_KIND_MESSAGE = gettext_lazy("Enter expiry_month, rank or all.")
NO_RANK_NAMES = {"", "none", "ランクなし", "なし"}


def _controls(table: Table, plan: Plan, problems: Problems, progress) -> None:
    seen: dict[tuple[str, str], int] = {}
    for number, (kind, key, points, count) in table.rows():

        def fail(column: str, message, number=number) -> None:
            problems.add(TOTALS.name, number, table.header(column), message)

        try:
            kind = choice_value(kind, CONTROL_KINDS, CONTROL_KIND_MESSAGE)
        except ValueError as error:
            fail("kind", str(error))
            continue
        try:
            if kind == "expiry_month":
                key = month_value(key)
            elif kind == "rank":
                key = " ".join(key.split())
                key = NO_RANK if key.casefold() in NO_RANK_NAMES else key
            else:
                key = ""
        except ValueError as error:
            fail("key", str(error))
            continue
        try:
            points = whole_value(points, low=0, high=10**15)
        except ValueError as error:
            fail("points", str(error))
            continue
        try:
            count = whole_value(count, low=0, high=10**12) if count else None
        except ValueError as error:
            fail("count", str(error))
            continue
        if (kind, key) in seen:
            fail("key", gettext("This total is also on row %(row)s.") % {"row": seen[kind, key]})
            continue
        seen[kind, key] = number
        plan.controls.append(Control(number, kind, key, points, count))
    plan.controls_header = {name: table.header(name) for name in ("key", "points", "count")}


def _figures(plan: Plan) -> None:
    """Points and members by rank, from the lots each member holds."""
    member_points = plan.member_points or array("q", bytes(8 * len(plan.members)))
    rank_of = {row.member: row.rank.name for row in plan.ranks}
    by_rank: dict[str, list[int]] = {}
    for position in range(len(plan.members)):
        figures = by_rank.setdefault(rank_of.get(position, NO_RANK), [0, 0])
        figures[0] += 1
        figures[1] += member_points[position]
    plan.by_rank = dict(sorted(by_rank.items(), key=lambda item: (item[0] == NO_RANK, item[0])))
    plan.by_month = dict(sorted(plan.by_month.items()))


def _reconcile_controls(plan: Plan, problems: Problems) -> None:
    header = plan.controls_header
    rows = {"expiry_month": plan.by_month, "rank": plan.by_rank}
    everything = [sum(figures[0] for figures in plan.by_month.values()), plan.points]
    given: dict[str, set[str]] = {"expiry_month": set(), "rank": set()}
    for control in plan.controls:
        if control.kind == "all":
            found = everything
        else:
            given[control.kind].add(control.key)
            found = rows[control.kind].get(control.key, [0, 0])
        which = _control_name(control.kind, control.key)
        if control.points != found[1]:
            problems.add(
                TOTALS.name,
                control.row,
                header["points"],
                gettext("%(which)s: the files hold %(found)s points, not %(given)s.")
                % {"which": which, "found": f"{found[1]:,}", "given": f"{control.points:,}"},
            )
        if control.count is not None and control.count != found[0]:
            problems.add(
                TOTALS.name,
                control.row,
                header["count"],
                gettext("%(which)s: the files hold %(found)s, not %(given)s.")
                % {"which": which, "found": f"{found[0]:,}", "given": f"{control.count:,}"},
            )
    for kind, figures in rows.items():
        if not given[kind]:
            continue
        for key, (_count, points) in figures.items():
            if key not in given[kind] and points:
                problems.add(
                    TOTALS.name,
                    None,
                    "",
                    gettext("No control total for %(which)s (the files hold %(points)s points).")
                    % {"which": _control_name(kind, key), "points": f"{points:,}"},
                )


def _control_name(kind: str, key: str) -> str:
    if kind == "expiry_month":
        return gettext("points expiring in %(month)s") % {"month": key}
    if kind == "rank":
        return gettext("members of rank %(rank)s") % {"rank": key} if key else gettext("members without a rank")
    return gettext("all lots")
