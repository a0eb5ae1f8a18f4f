import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.fields import EncryptedDateField, EncryptedTextField


def new_pseudonym() -> str:
    # 10 characters of a 32-letter alphabet: 50 bits, and nothing derived from the person.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "M" + "".join(secrets.choice(alphabet) for _ in range(10))


class Member(models.Model):
    """A person, or, until someone registers, the holder of a card first seen at a till.

    Personal data is encrypted per field; the *_bidx columns are keyed hashes
    that allow exact-match search. The pseudonym is what reports and the
    ledger show, and what remains after withdrawal.
    """

    class Status(models.TextChoices):
        UNREGISTERED = "unregistered", _("Unregistered")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # Memberships that every till and desk refuses: their cards, coupons and exchanges.
    REFUSED_STATUSES = (Status.SUSPENDED, Status.WITHDRAWN)

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Not given")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    pseudonym = models.CharField(_("member id"), max_length=11, unique=True, default=new_pseudonym, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.UNREGISTERED, db_index=True
    )
    name = EncryptedTextField(_("name"), key_name="name")
    name_kana = EncryptedTextField(_("name (kana)"), key_name="kana")
    address = EncryptedTextField(_("address"), key_name="address")
    phone = EncryptedTextField(_("phone"), key_name="phone")
    email = EncryptedTextField(_("e-mail"), key_name="email")
    birth_date = EncryptedDateField(_("birth date"), key_name="birth_date", null=True, default=None)
    name_bidx = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    kana_bidx = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_bidx = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    email_bidx = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # In clear, for statistics.
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices, blank=True, default="")
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    birth_month = models.PositiveSmallIntegerField(
        _("birth month"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True, db_index=True)
    # Consent.
    terms_version = models.CharField(_("terms version agreed"), max_length=20, blank=True)
    terms_agreed_at = models.DateTimeField(_("terms agreed at"), null=True, blank=True)
    opt_in_mail_magazine = models.BooleanField(_("mail magazine"), default=False)
    opt_in_direct_mail = models.BooleanField(_("direct mail"), default=False)
    opt_in_targeted_offers = models.BooleanField(_("use of data for targeted offers"), default=False)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True, db_index=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        permissions = [("view_personal_data", _("Can see members' personal data"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="withdrawn")
                | (
                    Q(name="")
                    & Q(name_kana="")
                    & Q(address="")
                    & Q(phone="")
                    & Q(email="")
                    & Q(phone_bidx="")
                    & Q(email_bidx="")
                    & Q(name_bidx="")
                    & Q(kana_bidx="")
                ),
                name="member_withdrawn_has_no_personal_data",
            ),
        ]

    def __str__(self) -> str:
        return self.pseudonym

    @property
    def is_registered(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.SUSPENDED)


class Card(models.Model):
    """What identifies a member at the till. The number itself is never stored in clear."""

    class CardType(models.TextChoices):
        TRANSIT_IC = "transit_ic", _("Transit IC (IDm)")
        PROGRAMME = "programme", _("Programme card")
        MOBILE = "mobile", _("Mobile / QR")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REPLACED = "replaced", _("Replaced")
        BLOCKED = "blocked", _("Blocked")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="cards", verbose_name=_("member"))
    card_type = models.CharField(_("card type"), max_length=12, choices=CardType.choices, db_index=True)
    number = EncryptedTextField(_("card number"), key_name="card_number")
    number_bidx = models.CharField(max_length=64, unique=True, editable=False)
    number_last4 = models.CharField(_("last 4"), max_length=4, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    replaced_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replaced by"),
        editable=False,
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True, editable=False)
    first_seen_store_code = models.CharField(_("first seen at store"), max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        constraints = [
            models.CheckConstraint(
                condition=Q(replaced_by__isnull=True) | Q(status="replaced"),
                name="card_replaced_by_only_when_replaced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_card_type_display()} …{self.number_last4}"

    @property
    def masked_number(self) -> str:
        return f"…{self.number_last4}"


class CardEvent(models.Model):
    """What happened to a card outside the ledger: issued, attached, replaced, blocked."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        ATTACHED = "attached", _("Attached to member")
        REPLACED = "replaced", _("Replaced")
        BLOCKED = "blocked", _("Blocked")

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="events", verbose_name=_("card"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="card_events", verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    other_card = models.ForeignKey(
        Card, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("other card")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("card event")
        verbose_name_plural = _("card events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["member", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.card}"


class ConsentPolicy(models.Model):
    """A version of the privacy policy and terms a member agrees to. A new version in force asks every
    member again at their next sign-in; `Member.terms_version` is the version a member last agreed to."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary shown to members"), blank=True)
    url = models.CharField(_("full text URL"), max_length=300, blank=True)
    in_force_from = models.DateTimeField(_("in force from"), db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("privacy policy version")
        verbose_name_plural = _("privacy policy versions")
        ordering = ["-in_force_from", "-id"]

    def __str__(self) -> str:
        return f"{self.version} {self.title}"


class ThirdParty(models.Model):
    """A named recipient of members' data, to which each member consents (or not) separately (APPI art. 27)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    purpose = models.TextField(_("purpose of provision"))
    items = models.CharField(_("items provided"), max_length=300, help_text=_("e.g. age band, postal area"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("third party")
        verbose_name_plural = _("third parties")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Consent(models.Model):
    """One consent given or withdrawn, per purpose: append-only (the table refuses UPDATE and DELETE on
    PostgreSQL). A member's consent to a purpose now is their newest row for it; none means not given.
    The three `Member.opt_in_*` flags are that state for their purposes, kept in the same transaction for
    lists and filters; every use of members' data reads these rows (members.selectors)."""

    class Purpose(models.TextChoices):
        MAIL_MAGAZINE = "mail_magazine", _("mail magazine")
        DIRECT_MAIL = "direct_mail", _("direct mail")
        TARGETED_OFFERS = "targeted_offers", _("use of data for targeted offers")
        ANALYSIS = "analysis", _("analysis of purchase data")
        THIRD_PARTY = "third_party", _("provision to a third party")

    class Channel(models.TextChoices):
        SITE = "site", _("Member site or app")
        COUNTER = "counter", _("Counter")
        IMPORT = "import", _("Import")
        TERMINAL = "terminal", _("Terminal")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="consents", verbose_name=_("member"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    third_party = models.ForeignKey(
        ThirdParty, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("third party")
    )
    given = models.BooleanField(_("given"))
    policy_version = models.CharField(_("policy version"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff"),
    )
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["member", "purpose", "third_party", "-at", "-id"], name="consent_latest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose="third_party", third_party__isnull=False)
                | (~Q(purpose="third_party") & Q(third_party__isnull=True)),
                name="consent_third_party_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {'+' if self.given else '-'}"


class Provision(models.Model):
    """A record of members' data provided to a third party (APPI art. 29: kept three years): when, to whom,
    which items, whose data, and by whom. Written by the export that provides it, only for members whose
    consent held at that moment."""

    third_party = models.ForeignKey(
        ThirdParty, on_delete=models.PROTECT, related_name="provisions", verbose_name=_("third party")
    )
    items = models.CharField(_("items provided"), max_length=300)
    member_ids = models.JSONField(_("members"), default=list)
    members_count = models.PositiveIntegerField(_("number of members"))
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("staff")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    keep_until = models.DateField(_("keep until"))

    class Meta:
        verbose_name = _("provision to a third party")
        verbose_name_plural = _("provisions to third parties")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.third_party} {self.at:%Y-%m-%d}"
