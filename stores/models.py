from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

invoice_number_validator = RegexValidator(
    r"^T\d{13}$", _("Enter the invoice registration number as T followed by 13 digits.")
)
bank_code_validator = RegexValidator(r"^\d{4}$", _("A bank code is 4 digits."))
branch_code_validator = RegexValidator(r"^\d{3}$", _("A branch code is 3 digits."))
account_number_validator = RegexValidator(r"^\d{7}$", _("An account number is 7 digits."))
postal_code_validator = RegexValidator(r"^\d{3}-?\d{4}$", _("A postal code is 7 digits (123-4567)."))


class Merchant(models.Model):
    """The company (or sole proprietor) that runs one or more stores and is invoiced."""

    class AccountType(models.TextChoices):
        ORDINARY = "ordinary", _("Ordinary (普通)")
        CURRENT = "current", _("Current (当座)")

    code = models.CharField(_("merchant code"), max_length=20, unique=True)
    name = models.CharField(_("company name"), max_length=200)
    name_kana = models.CharField(_("company name (kana)"), max_length=200, blank=True)
    invoice_registration_number = models.CharField(
        _("invoice registration number"),
        max_length=14,
        blank=True,
        validators=[invoice_number_validator],
        help_text=_("Qualified invoice issuer number: T followed by 13 digits."),
    )
    representative = models.CharField(_("representative"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True, validators=[postal_code_validator])
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("billing e-mail"), blank=True)
    bank_code = models.CharField(_("bank code"), max_length=4, blank=True, validators=[bank_code_validator])
    bank_branch_code = models.CharField(_("branch code"), max_length=3, blank=True, validators=[branch_code_validator])
    bank_account_type = models.CharField(
        _("account type"), max_length=10, choices=AccountType.choices, default=AccountType.ORDINARY
    )
    bank_account_number = models.CharField(
        _("account number"), max_length=7, blank=True, validators=[account_number_validator]
    )
    bank_account_holder_kana = models.CharField(_("account holder (kana)"), max_length=100, blank=True)
    monthly_report = models.BooleanField(
        _("monthly report by mail"),
        default=False,
        help_text=_(
            "Each month after the close, a report of the merchant's stores (PDF and CSV) is mailed to the "
            "billing e-mail."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Store(models.Model):
    class Category(models.TextChoices):
        BAKERY = "bakery", _("Bakery")
        BOOKSHOP = "bookshop", _("Bookshop")
        CAFE = "cafe", _("Café")
        RESTAURANT = "restaurant", _("Restaurant")
        IZAKAYA = "izakaya", _("Izakaya")
        GROCERY = "grocery", _("Grocery")
        BUTCHER = "butcher", _("Butcher")
        FISHMONGER = "fishmonger", _("Fishmonger")
        GREENGROCER = "greengrocer", _("Greengrocer")
        CONFECTIONERY = "confectionery", _("Japanese confectionery")
        PHARMACY = "pharmacy", _("Pharmacy")
        CLINIC = "clinic", _("Clinic")
        OPTICIAN = "optician", _("Optician")
        CLOTHING = "clothing", _("Clothing")
        SHOES = "shoes", _("Shoes")
        HAIR_SALON = "hair_salon", _("Hair salon")
        FLORIST = "florist", _("Florist")
        HARDWARE = "hardware", _("Hardware")
        ELECTRONICS = "electronics", _("Electronics")
        LIQUOR = "liquor", _("Liquor")
        TEA = "tea", _("Tea shop")
        LAUNDRY = "laundry", _("Laundry")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="stores", verbose_name=_("merchant"))
    code = models.CharField(_("store code"), max_length=20, unique=True)
    name = models.CharField(_("store name"), max_length=200)
    name_kana = models.CharField(_("store name (kana)"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True, validators=[postal_code_validator])
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    earn_rate_bp = models.PositiveIntegerField(
        _("earn rate (basis points)"),
        default=100,
        help_text=_("Points per purchase amount in 1/100 %: 100 = 1 point per 100 yen."),
    )
    contract_start = models.DateField(_("contract start"))
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]
        constraints = [
            # The messages are what the admin's form and the import say of a row that breaks them.
            models.CheckConstraint(
                condition=Q(earn_rate_bp__lte=10000),
                name="store_earn_rate_at_most_100_percent",
                violation_error_message=_("The earn rate is at most 10,000 basis points (100 percent)."),
            ),
            models.CheckConstraint(
                condition=Q(contract_end__isnull=True) | Q(contract_end__gt=models.F("contract_start")),
                name="store_contract_end_after_start",
                violation_error_message=_("The contract end must be after the contract start."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def earn_rate_display(self) -> str:
        return f"{self.earn_rate_bp / 100:.2f}%"


class Terminal(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="terminals", verbose_name=_("store"))
    code = models.CharField(_("terminal code"), max_length=30, unique=True)
    name = models.CharField(_("terminal name"), max_length=100, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=50, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    # SHA-256 of the bearer secret; the secret itself is shown once and never stored.
    secret_hash = models.CharField(_("secret hash"), max_length=64, unique=True, null=True, blank=True, editable=False)
    secret_issued_at = models.DateTimeField(_("secret issued at"), null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("revoked by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class MerchantUser(models.Model):
    """A login of the merchant portal: the user sees this merchant's stores and nothing else."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_user", verbose_name=_("user")
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="users", verbose_name=_("merchant"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merchant portal user")
        verbose_name_plural = _("merchant portal users")

    def __str__(self) -> str:
        return f"{self.user} ({self.merchant.code})"
