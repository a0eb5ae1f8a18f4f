"""Import and export of members and cards.

Personal data and card numbers are encrypted and searched through blind
indexes, so every write goes through members.services: personal fields via
member_set_personal_data (which sets the indexes), new cards via
card_create, suspension and blocking via their services.

Exports carry personal data (name, kana, address, phone, e-mail, birth
date) and card numbers in clear only for a user with
members.view_personal_data; for anyone else those columns are left out, and
the import preview masks them. A file without those columns imports the
other columns and leaves personal data as it is.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.widgets import CharWidget

from common.imports import BackofficeResource, IsoDateWidget, LocalDateTimeWidget, LookupWidget
from members import validation
from members.models import Card, Consent, Member
from members.services import (
    PERSONAL_FIELDS,
    CardNumberError,
    card_block,
    card_create,
    card_number_index,
    card_number_normalise,
    member_reinstate,
    member_set_personal_data,
    member_suspend,
)
from members.services.consents import consent_record_flags

PERSONAL_DATA_PERMISSION = "members.view_personal_data"


def _add_error(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(message)


class MemberResource(BackofficeResource):
    """Keyed by pseudonym; a row with an empty pseudonym makes a new member."""

    pseudonym = Field(attribute="pseudonym", column_name="pseudonym", widget=CharWidget())
    name = Field(attribute="name", column_name="name", widget=CharWidget())
    name_kana = Field(attribute="name_kana", column_name="name_kana", widget=CharWidget())
    address = Field(attribute="address", column_name="address", widget=CharWidget())
    phone = Field(attribute="phone", column_name="phone", widget=CharWidget())
    email = Field(attribute="email", column_name="email", widget=CharWidget())
    birth_date = Field(attribute="birth_date", column_name="birth_date", widget=IsoDateWidget())
    registered_at = Field(attribute="registered_at", column_name="registered_at", widget=LocalDateTimeWidget())

    required_columns = ("pseudonym",)
    personal_attributes = frozenset(PERSONAL_FIELDS)
    personal_data_permission = PERSONAL_DATA_PERMISSION

    class Meta:
        model = Member
        import_id_fields = ("pseudonym",)
        fields = (
            "pseudonym",
            "status",
            "name",
            "name_kana",
            "address",
            "phone",
            "email",
            "birth_date",
            "gender",
            "birth_year",
            "birth_month",
            "postal_code",
            "terms_version",
            "opt_in_mail_magazine",
            "opt_in_direct_mail",
            "opt_in_targeted_offers",
            "registered_at",
        )
        export_order = fields
        name = gettext_lazy("Members")

    def get_instance(self, instance_loader, row):
        pseudonym = row.get("pseudonym") or ""
        if not pseudonym:
            return None
        member = Member.objects.filter(pseudonym=pseudonym).first()
        if member is None:
            raise ValidationError(
                {"pseudonym": _("No member with id “%(id)s”; leave it empty to add a member.") % {"id": pseudonym}}
            )
        return member

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        # The pseudonym is generated, never taken from a file; personal data is
        # set below through the service, with its blind indexes.
        if field.attribute == "pseudonym" or field.attribute in PERSONAL_FIELDS:
            return
        if field.attribute == "registered_at" and instance.registered_at and row.get(field.column_name) in (None, ""):
            return  # an empty cell does not unregister anyone
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        personal = {}
        for name in PERSONAL_FIELDS:
            field = self.fields[name]
            if field.column_name not in row:
                continue
            try:
                personal[name] = validation.field_clean(name, field.clean(row, **kwargs))
            except ValueError as exc:
                _add_error(errors, name, str(exc))
            except ValidationError as exc:
                errors.setdefault(name, []).extend(exc.messages)
        # The name a registration is checked for (validate_instance): none without the column, or once refused.
        name_given = self.fields["name"].column_name in row and "name" not in errors
        instance._registration_name = (personal.get("name") or "") if name_given else None
        if "postal_code" not in errors and self.fields["postal_code"].column_name in row:
            try:
                instance.postal_code = validation.field_clean("postal_code", instance.postal_code)
            except ValidationError as exc:
                errors.setdefault("postal_code", []).extend(exc.messages)
        birth_date = personal.get("birth_date")
        if birth_date and "birth_date" not in errors:
            self._check_birth_year_month(instance, birth_date, errors)
        if errors:
            raise ValidationError(errors)
        if personal:
            member_set_personal_data(member=instance, save=False, **personal)

    @staticmethod
    def _check_birth_year_month(member: Member, birth_date: datetime.date, errors: dict) -> None:
        # The clear year and month are what statistics read; they must agree with the date.
        if member.birth_year is None:
            member.birth_year = birth_date.year
        if member.birth_month is None:
            member.birth_month = birth_date.month
        if (member.birth_year, member.birth_month) != (birth_date.year, birth_date.month):
            _add_error(errors, "birth_date", _("The birth year and month do not match the birth date."))

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        before, after = instance._status_before_import, instance.status
        Status = Member.Status
        if before == Status.WITHDRAWN:
            _add_error(errors, "status", _("A withdrawn member cannot be changed."))
        elif after == Status.WITHDRAWN:
            _add_error(errors, "status", _("Withdrawal erases personal data; it is done in the admin, not by import."))
        elif before in (Status.ACTIVE, Status.SUSPENDED) and after == Status.UNREGISTERED:
            _add_error(errors, "status", _("A registered member cannot become unregistered."))
        elif after in (Status.ACTIVE, Status.SUSPENDED):
            if before in (None, Status.UNREGISTERED):
                self._check_registration(instance, errors)
            if instance.registered_at is None:
                instance.registered_at = timezone.now()
        if instance.terms_version and instance.terms_agreed_at is None:
            instance.terms_agreed_at = instance.registered_at or timezone.now()
        super().validate_instance(instance, errors, validate_unique)

    @staticmethod
    def _check_registration(member: Member, errors: dict) -> None:
        # What the admin's form asks of a registration; a file without the name column registers without one,
        # as the form does for staff who may not see personal data.
        name = getattr(member, "_registration_name", None)
        for field, error in validation.registration_errors(terms_version=member.terms_version, name=name).items():
            errors.setdefault(field, []).extend(error.messages)

    def do_instance_save(self, instance, is_create):
        super().do_instance_save(instance, is_create)
        # The file's consent columns, recorded in the consent ledger as given by import.
        consent_record_flags(member=instance, channel=Consent.Channel.IMPORT, staff=self.user, every=is_create)

    def status_services(self):
        active, suspended = Member.Status.ACTIVE, Member.Status.SUSPENDED
        return {
            (active, suspended): lambda member: member_suspend(member=member, staff=self.user),
            (suspended, active): lambda member: member_reinstate(member=member, staff=self.user),
        }


class CardResource(BackofficeResource):
    """Keyed by card type and number. The number is looked up by its blind
    index (it is never stored in clear); a new card is issued by card_create,
    to the member given by pseudonym or, without one, to a new unregistered
    member. An existing card can be blocked here; moving it to another member
    or replacing it is done in the admin."""

    card_type = Field(attribute="card_type", column_name="card_type", widget=CharWidget())
    number = Field(attribute="number", column_name="number", widget=CharWidget())
    status = Field(attribute="status", column_name="status", widget=CharWidget())
    member = Field(attribute="member", column_name="member", widget=LookupWidget(Member, "pseudonym"))
    created_at = Field(attribute="created_at", column_name="created_at", widget=LocalDateTimeWidget(), readonly=True)

    required_columns = ("card_type", "number")
    personal_attributes = frozenset({"number"})
    personal_data_permission = PERSONAL_DATA_PERMISSION

    class Meta:
        model = Card
        import_id_fields = ("number", "card_type")
        fields = ("card_type", "number", "status", "member", "created_at")
        export_order = fields
        name = gettext_lazy("Cards")

    def get_queryset(self):
        return super().get_queryset().select_related("member")

    def import_key(self, row):
        try:
            return card_number_normalise(number=row.get("number") or "", card_type=row.get("card_type") or "")
        except CardNumberError:
            return None  # reported on its own row

    def _normalised_number(self, row) -> str:
        card_type = row.get("card_type") or ""
        if card_type not in Card.CardType.values:
            raise ValidationError(
                {
                    "card_type": _("Unknown card type “%(value)s”; use one of: %(types)s.")
                    % {"value": card_type, "types": ", ".join(Card.CardType.values)}
                }
            )
        try:
            return card_number_normalise(number=row.get("number") or "", card_type=card_type)
        except CardNumberError as exc:
            raise ValidationError({"number": str(exc)}) from None

    def get_instance(self, instance_loader, row):
        number = self._normalised_number(row)
        card = Card.objects.select_related("member").filter(number_bidx=card_number_index(number)).first()
        if card is not None and card.card_type != row.get("card_type"):
            raise ValidationError(
                {"card_type": _("This number belongs to a card of type “%(type)s”.") % {"type": card.card_type}}
            )
        return card

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        # Set by import_instance, under the rules of what a file may change.
        if field.attribute in ("card_type", "number", "status", "member"):
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        new = instance._status_before_import is None
        status = row.get("status") or (Card.Status.ACTIVE if new else instance.status)
        member = None
        if row.get("member"):
            try:
                member = self.fields["member"].clean(row, **kwargs)
            except ValueError as exc:
                _add_error(errors, "member", str(exc))
        if member is not None and member.status == Member.Status.WITHDRAWN:
            _add_error(errors, "member", _("The member has withdrawn."))
        if new:
            number = self._normalised_number(row)
            instance.card_type = row["card_type"]
            instance.number = number
            instance.number_bidx = card_number_index(number)
            instance.number_last4 = number[-4:]
            if member is not None:
                instance.member = member
            if status != Card.Status.ACTIVE:
                _add_error(errors, "status", _("A new card is issued as active."))
        else:
            if member is not None and member.pk != instance.member_id:
                _add_error(errors, "member", _("A card moves to another member by replacement or merge, in the admin."))
            if status != instance.status and (instance.status, status) != (Card.Status.ACTIVE, Card.Status.BLOCKED):
                _add_error(errors, "status", _("By import a card can only be blocked."))
        instance.status = status
        if errors:
            raise ValidationError(errors)

    def clean_exclude(self, instance):
        # Without a member, card_create makes an unregistered one to hold the points.
        return {"member"} if instance.member_id is None else set()

    def do_instance_save(self, instance, is_create):
        staff = self.user if getattr(self.user, "pk", None) else None
        if is_create:
            card = card_create(
                number=instance.number,
                card_type=instance.card_type,
                member=instance.member if instance.member_id else None,
                staff=staff,
            )
            instance.pk = card.pk
            instance.member = card.member
            instance.created_at = card.created_at
            instance._state.adding = False
            instance._state.db = card._state.db
        elif instance.status == Card.Status.BLOCKED and instance._status_before_import == Card.Status.ACTIVE:
            card_block(card=instance, staff=staff, note="import")
