"""Give a local demo its member side: the privacy policy the demo members agreed to, a named third party, an
organisation taking donations, a QR event running for a month, mail to members (a mailing already sent to a
small segment, with its send log, a draft to send, and the monthly reminder of expiring points), and a sign-in
link for one demo member, printed with the member site's address."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.utils import timezone

from donations.models import Organisation
from mailing.models import ExpiryReminder, Mailing
from mailing.services import (
    expiry_reminder_save,
    mailing_save,
    mailing_send_now,
    mailing_send_run,
    reminder_default_text,
)
from members.models import ConsentPolicy, Member, ThirdParty
from membersite.services import member_link_url
from points.models import Programme
from points.seeding import vocabulary as words
from qrpoints.models import QrEvent
from qrpoints.services import qr_event_save


class Command(BaseCommand):
    help = "Set up the member site's demo (policy, third party) and print a one-time sign-in link for a demo member."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/my/", help="Member site URL to print.")

    def handle(self, *args, url, **options):
        if not settings.DEBUG:
            raise CommandError("DEBUG is off: the demo's member side is for a local demo only.")
        ConsentPolicy.objects.get_or_create(
            version=words.TERMS_VERSION,
            defaults={
                "title": "会員規約・プライバシーポリシー",
                "summary": "ポイントの付与と利用、会員サービスのために個人情報を利用します。",
                "in_force_from": words.TERMS_IN_FORCE,
            },
        )
        ThirdParty.objects.get_or_create(
            name="ひかり商店街振興組合 統計委託先",
            defaults={"purpose": "商圏の来街分析", "items": "会員ID, 性別, 年代, 郵便番号の上3桁"},
        )
        programme = Programme.objects.filter(code=words.PROGRAMME_CODE).first()
        if programme is not None:
            self._donations_and_qr(programme)
            self._mail(programme)
        member = (
            Member.objects.filter(status=Member.Status.ACTIVE, terms_version=words.TERMS_VERSION)
            .exclude(email_bidx="")
            .order_by("pk")
            .first()
        )
        if member is None:
            self.stdout.write("Member site: no demo member with an e-mail address yet (run seed_demo).")
            return
        link = member_link_url(member=member).replace(settings.MEMBER_SITE_BASE_URL.rstrip("/") + "/my/", url)
        self.stdout.write(self.style.SUCCESS(f"Member site: {url}  member: {member.email}"))
        self.stdout.write(f"  one-time sign-in link ({settings.MEMBER_LINK_MINUTES} min): {link}")
        self.stdout.write("  later, ask for a link on the sign-in page: the mail is printed in this console")

    def _donations_and_qr(self, programme) -> None:
        Organisation.objects.get_or_create(
            programme=programme,
            name="ひかり子ども食堂",
            defaults={
                "purpose": "商店街の子どもたちに温かい食事を届けます。",
                "bank_code": "0005",
                "bank_name_kana": "ﾐﾂﾋﾞｼﾕｰｴﾌｼﾞｪｲ",
                "branch_code": "123",
                "branch_name_kana": "ﾋｶﾘ",
                "account_number": "7654321",
                "account_holder_kana": "ﾄｸﾋ)ﾋｶﾘｺﾄﾞﾓｼﾖｸﾄﾞｳ",
            },
        )
        if not QrEvent.objects.filter(programme=programme, name="商店街夏祭り").exists():
            now = timezone.now().replace(microsecond=0)
            qr_event_save(
                event=QrEvent(
                    programme=programme,
                    name="商店街夏祭り",
                    points=100,
                    max_claims=500,
                    valid_from=now,
                    valid_until=now + datetime.timedelta(days=30),
                ),
                staff=None,
            )

    def _mail(self, programme) -> None:
        """A mailing sent to a small segment (its send log and counts to look at), a draft for the operator to
        send, and the monthly reminder of expiring points. Run once: a programme that has mailings is left as
        it is."""
        if Mailing.objects.filter(programme=programme).exists():
            return
        if not ExpiryReminder.objects.filter(programme=programme).exists():
            subject, body = reminder_default_text()
            expiry_reminder_save(reminder=ExpiryReminder(programme=programme, subject=subject, body=body), staff=None)
        mailing_save(
            mailing=Mailing(
                programme=programme,
                subject="{{ programme }} 歳末セールのお知らせ",
                body=(
                    "{{ name }} 様\n\nいつもご利用ありがとうございます。\n"
                    "現在のポイント残高は {{ balance }} ポイントです。\n"
                    "歳末セールでは、加盟店でのお買い物にポイントが2倍つきます。"
                ),
                visited_within_days=30,
            ),
            staff=None,
        )
        sent = mailing_save(
            mailing=Mailing(
                programme=programme,
                subject="{{ programme }} ご無沙汰しております",
                body="{{ name }} 様\n\n{{ balance }} ポイントが貯まっています。またのご来店をお待ちしております。",
                age_min=70,
                not_visited_for_days=60,
            ),
            staff=None,
        )
        # Sent here, to a few members, into memory: the console that prints sign-in links stays readable, and
        # the queued run finds the mailing sent and does nothing.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mailing_send_now(mailing=sent, staff=None)
            mailing_send_run(mailing_id=sent.pk, seconds=60)
