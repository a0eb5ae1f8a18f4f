"""Give a local demo its member side: the privacy policy the demo members agreed to, a named third party, and
a sign-in link for one demo member, printed with the member site's address."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from members.models import ConsentPolicy, Member, ThirdParty
from membersite.services import member_link_url
from points.seeding import vocabulary as words


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
