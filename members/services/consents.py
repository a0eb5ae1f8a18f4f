"""The consent ledger's writes: a member's consent to each purpose given or withdrawn, one append-only row each.

A purpose is one of `Consent.Purpose`; provision to a third party is a purpose per named third party, so its
key is `("third_party", third_party_id)` and every other purpose's key is the purpose itself. Rows are written
only for what changes (or, at registration, for every purpose asked), with the policy version in force, the
channel and the staff member if any; the three `Member.opt_in_*` flags follow in the same transaction. The
member's row is locked first, so that two changes of one member's consent are ordered and a use that locks
the member (members.selectors.consent_holds(lock=True)) sees the newest.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.bulk import Rows
from members.models import Consent, ConsentPolicy, Member, Provision, ThirdParty

ConsentKey = str | tuple[str, int]

# The purposes whose state is also a column of Member.
FLAG_OF = {
    Consent.Purpose.MAIL_MAGAZINE: "opt_in_mail_magazine",
    Consent.Purpose.DIRECT_MAIL: "opt_in_direct_mail",
    Consent.Purpose.TARGETED_OFFERS: "opt_in_targeted_offers",
}
PLAIN_PURPOSES = tuple(purpose for purpose in Consent.Purpose if purpose != Consent.Purpose.THIRD_PARTY)


def consent_keys() -> list[ConsentKey]:
    """Every purpose a member is asked about now: the plain purposes, then each active third party."""
    third = ThirdParty.objects.filter(active=True).order_by("name").values_list("pk", flat=True)
    return [*PLAIN_PURPOSES, *((Consent.Purpose.THIRD_PARTY, pk) for pk in third)]


def key_of(consent: Consent) -> ConsentKey:
    return (consent.purpose, consent.third_party_id) if consent.third_party_id else consent.purpose


def _split(key: ConsentKey) -> tuple[str, int | None]:
    if isinstance(key, tuple):
        purpose, third_party_id = key
        if purpose != Consent.Purpose.THIRD_PARTY or not third_party_id:
            raise ValueError(f"not a consent key: {key!r}")
        return purpose, int(third_party_id)
    if key not in PLAIN_PURPOSES:
        raise ValueError(f"not a consent purpose: {key!r}")
    return key, None


def policy_in_force(*, at: datetime.datetime | None = None) -> ConsentPolicy | None:
    return ConsentPolicy.objects.filter(in_force_from__lte=at or timezone.now()).first()


def current_states(member_id: int) -> dict[ConsentKey, Consent]:
    """The newest row of each purpose the member has a row for."""
    states: dict[ConsentKey, Consent] = {}
    for consent in Consent.objects.filter(member_id=member_id).order_by("at", "id"):
        states[key_of(consent)] = consent
    return states


def consent_record(
    *,
    member: Member,
    choices: Mapping[ConsentKey, bool],
    channel: str,
    staff=None,
    policy_version: str | None = None,
    every: bool = False,
    at: datetime.datetime | None = None,
) -> list[Consent]:
    """Record the member's choices: a row for each purpose whose state changes (with `every`, for each purpose
    named, changed or not: a registration or a new policy's answer records all). Returns the rows written."""
    with transaction.atomic():
        locked = Member.objects.select_for_update().only("pk", *FLAG_OF.values()).get(pk=member.pk)
        states = current_states(member.pk)
        if policy_version is None:
            policy = policy_in_force()
            policy_version = policy.version if policy else member.terms_version
        at = at or timezone.now()
        rows = []
        for key, given in choices.items():
            purpose, third_party_id = _split(key)
            now = states.get(key)
            if not every and (now.given if now else False) == bool(given):
                continue
            rows.append(
                Consent(
                    member_id=member.pk,
                    purpose=purpose,
                    third_party_id=third_party_id,
                    given=bool(given),
                    policy_version=policy_version or "",
                    channel=channel,
                    staff=staff if getattr(staff, "pk", None) else None,
                    at=at,
                )
            )
        Consent.objects.bulk_create(rows)
        flags = {FLAG_OF[row.purpose]: row.given for row in rows if row.purpose in FLAG_OF}
        if flags:
            Member.objects.filter(pk=member.pk).update(**flags)
            for field, value in flags.items():
                setattr(member, field, value)
                setattr(locked, field, value)
        return rows


def consents_end(*, member: Member, channel: str, staff=None) -> list[Consent]:
    """Withdraw every purpose the member has given (a withdrawal of membership ends them all)."""
    given = [key for key, consent in current_states(member.pk).items() if consent.given]
    return consent_record(member=member, choices=dict.fromkeys(given, False), channel=channel, staff=staff)


CONSENT_COLUMNS = ("member_id", "purpose", "third_party_id", "given", "policy_version", "channel", "staff_id", "at")


def consents_create_many(
    rows: Iterable[tuple[int, str, bool, str, datetime.datetime]], *, channel: str, staff=None
) -> None:
    """Bulk rows for members written in bulk (an import, the demo): (member id, plain purpose, given, policy
    version, at) each. The caller sets the members' flags to match; inside the caller's transaction."""
    staff_id = getattr(staff, "pk", None)
    Rows(Consent, CONSENT_COLUMNS).insert(
        (member_id, purpose, None, given, version, channel, staff_id, at)
        for member_id, purpose, given, version, at in rows
    )


def consents_end_many(*, member_ids: list[int], channel: str, staff=None) -> None:
    """consents_end for many members at once (an import rolled back): a withdrawn row for each purpose given
    now. Inside the caller's transaction."""
    now = timezone.now()
    staff_id = getattr(staff, "pk", None)
    Rows(Consent, CONSENT_COLUMNS).insert(
        (member_id, purpose, third_party_id, False, "", channel, staff_id, now)
        for member_id, purpose, third_party_id in _given_now(member_ids)
    )


def _given_now(member_ids: list[int]) -> list[tuple[int, str, int | None]]:
    """(member, purpose, third party) of every consent given now by these members."""
    newest: dict[tuple[int, str, int | None], bool] = {}
    for start in range(0, len(member_ids), 5_000):
        rows = Consent.objects.filter(member_id__in=member_ids[start : start + 5_000]).order_by("at", "id")
        for member_id, purpose, third_party_id, given in rows.values_list(
            "member_id", "purpose", "third_party_id", "given"
        ):
            newest[(member_id, purpose, third_party_id)] = given
    return [key for key, given in newest.items() if given]


def consent_record_flags(*, member: Member, channel: str, staff=None, every: bool = False) -> list[Consent]:
    """Record the choices a form or a file set on the member's three flags (the admin's member form, the
    member import): a row for each that differs from the ledger, and all three at a registration."""
    choices = {purpose: bool(getattr(member, flag)) for purpose, flag in FLAG_OF.items()}
    return consent_record(member=member, choices=choices, channel=channel, staff=staff, every=every)


def consents_from_flags_many(members: Iterable[Member], *, channel: str, staff=None) -> None:
    """The consent rows of members written in bulk with their three flags set (an import from an old system,
    the demo's members): a given row for each flag set, with the terms version and the time they agreed.
    Inside the caller's transaction."""
    now = timezone.now()
    consents_create_many(
        (
            (member.pk, purpose, True, member.terms_version, member.terms_agreed_at or now)
            for member in members
            for purpose, flag in FLAG_OF.items()
            if getattr(member, flag)
        ),
        channel=channel,
        staff=staff,
    )


PROVISION_COLUMNS = ("pseudonym", "gender", "age_band", "postal_area")
PROVISION_KEPT_YEARS = 3


def _age_band(birth_year: int | None, today: datetime.date) -> str:
    if not birth_year:
        return ""
    return f"{(today.year - birth_year) // 10 * 10}s"


def provision_make(*, third_party: ThirdParty, staff) -> tuple[Provision, list[tuple[str, ...]]]:
    """Provide the data of the members whose consent to this third party holds at this moment: no personal
    data, only the pseudonym and the attributes in clear (gender, age band, postal area). Records the
    provision (kept three years, APPI art. 29) in the same transaction as the read."""
    from members.selectors import members_consenting

    if not third_party.active:
        raise ValueError(_("This third party is no longer active; nothing can be provided to it."))
    today = timezone.localdate()
    with transaction.atomic():
        consenting = members_consenting(
            Member.objects.order_by("pk"), purpose=Consent.Purpose.THIRD_PARTY, third_party_id=third_party.pk
        )
        members = list(consenting.values_list("pk", "pseudonym", "gender", "birth_year", "postal_code"))
        rows = [
            (pseudonym, gender, _age_band(birth_year, today), postal_code[:3])
            for _pk, pseudonym, gender, birth_year, postal_code in members
        ]
        provision = Provision.objects.create(
            third_party=third_party,
            items=", ".join(PROVISION_COLUMNS),
            member_ids=[pk for pk, *_rest in members],
            members_count=len(members),
            staff=staff,
            keep_until=today.replace(year=today.year + PROVISION_KEPT_YEARS)
            if (today.month, today.day) != (2, 29)
            else today.replace(year=today.year + PROVISION_KEPT_YEARS, day=28),
        )
    return provision, rows
