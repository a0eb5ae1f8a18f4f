"""Give a local demo its staff logins, with a fresh password on every run."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from loyalty.roles import AUDITOR, OPERATOR, SECRETARIAT, sync_role_groups

# user name -> role; "admin" is also a superuser.
DEMO_USERS = {
    "admin": SECRETARIAT,
    "jimukyoku": SECRETARIAT,
    "unyou": OPERATOR,
    "kansa": AUDITOR,
}


class Command(BaseCommand):
    help = (
        "Create or update the demo staff users (admin, jimukyoku, unyou, kansa) "
        "with a new random password, and print it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/", help="Admin URL to print.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (it resets the admin password)."
        )

    def handle(self, *args, url, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: this would reset the admin password of a real system. Use --force.")
        # Long enough to be safe, short enough to type in a demo.
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            sync_role_groups()
            for username, role in DEMO_USERS.items():
                self._set_user(username, role=role, password=password)
        self._forget_lockouts()
        self.stdout.write(self.style.SUCCESS(f"Admin login: {url}  user: admin  password: {password}"))
        for username, role in DEMO_USERS.items():
            if username != "admin":
                self.stdout.write(f"  also: user: {username}  password: {password}  ({role})")

    def _set_user(self, username: str, *, role: str, password: str) -> None:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = True
        user.is_active = True
        user.is_superuser = username == "admin"
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])

    def _forget_lockouts(self) -> None:
        # A demo user locked out by django-axes would otherwise stay locked
        # out despite the new password.
        from axes.utils import reset

        for username in DEMO_USERS:
            reset(username=username)
