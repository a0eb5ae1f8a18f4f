"""How a member signs in: a login user of their own, and the member API's sessions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Member


class MemberLogin(models.Model):
    """The user a member signs in as (one-time links are made for it). No password, no personal data, never
    staff: the member's e-mail stays encrypted on the member, and the user's name is the pseudonym."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member_login", verbose_name=_("user")
    )
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="login", verbose_name=_("member"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member login")
        verbose_name_plural = _("member logins")

    def __str__(self) -> str:
        return str(self.member)


class ApiSession(models.Model):
    """A session of the member API (a smartphone app), started with a one-time link's token. Only the hash of
    the session's secret is kept."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member API session")
        verbose_name_plural = _("member API sessions")
        indexes = [models.Index(fields=["member", "-created_at"], name="apisession_member")]

    def __str__(self) -> str:
        return f"{self.member} {self.created_at:%Y-%m-%d %H:%M}"
