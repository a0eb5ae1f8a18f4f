"""Give a local demo its billing: settings for each programme, last month closed and sent, and a merchant
portal login (a fresh password on every run)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.utils import timezone

from billing.models import BillingSettings, Period
from billing.periods import period_containing
from billing.services import CloseError, period_close, period_send
from points.models import Programme
from stores.models import Merchant, MerchantUser

PORTAL_USER = "tenpo"
DEMO_SECRETARIAT = {
    "secretariat_name": "ひかり商店街振興組合 事務局",
    "secretariat_postal_code": "100-0001",
    "secretariat_address": "東京都千代田区ひかり町1-2-3 ひかり会館2階",
    "secretariat_phone": "03-1234-5678",
}
DEMO_TERMS = {
    "issuer_registration_number": "T1010001000019",
    "payback_rate_bp": 9_700,
    "system_fee_yen": 3_000,
    "terminal_rental_yen": 1_500,
    "transaction_fee_yen": 2,
    "consignor_code": "0000012345",
    "consignor_name_kana": "ﾋｶﾘｼｮｳﾃﾝｶﾞｲｼﾝｺｳｸﾐｱｲ",
    "bank_code": "0005",
    "bank_name": "三菱UFJ銀行",
    "bank_name_kana": "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ",
    "branch_code": "001",
    "branch_name": "本店",
    "branch_name_kana": "ﾎﾝﾃﾝ",
    "account_number": "1234567",
}


class Command(BaseCommand):
    help = "Demo billing: settings per programme, last month closed and sent, and a merchant portal login."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/portal/", help="Portal URL to print.")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, url, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: this would reset a merchant's portal password. Use --force.")
        for programme in Programme.objects.filter(billing_settings__isnull=True):
            if not programme.secretariat_name:
                Programme.objects.filter(pk=programme.pk).update(**DEMO_SECRETARIAT)
            BillingSettings.objects.create(programme=programme, **DEMO_TERMS)
        for terms in BillingSettings.objects.select_related("programme"):
            self._close_last_month(terms)
        merchant = Merchant.objects.order_by("code").first()
        if merchant is None:
            return
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=PORTAL_USER)
        user.is_staff, user.is_active = False, True
        user.set_password(password)
        user.save()
        MerchantUser.objects.update_or_create(user=user, defaults={"merchant": merchant})
        from axes.utils import reset

        reset(username=PORTAL_USER)
        self.stdout.write(
            self.style.SUCCESS(f"Merchant portal: {url}  user: {PORTAL_USER}  password: {password}  ({merchant.name})")
        )

    def _close_last_month(self, terms: BillingSettings) -> None:
        this_year, this_month = period_containing(timezone.localdate(), closing_day=terms.closing_day)
        year, month = (this_year, this_month - 1) if this_month > 1 else (this_year - 1, 12)
        if Period.objects.filter(programme=terms.programme, year=year, month=month, status="closed").exists():
            return
        try:
            result = period_close(programme=terms.programme, year=year, month=month)
        except CloseError as error:
            self.stderr.write(f"demo close of {year}-{month:02d} skipped: {error}")
            return
        # The demo's 170 merchants would each get a notice on the console; they are told nothing here.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            sent = period_send(period=result.period, staff=None)
        self.stdout.write(f"Billing: {terms.programme.code} {year}-{month:02d} closed, {sent} statements sent.")
