from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersiteConfig(AppConfig):
    name = "membersite"
    verbose_name = _("Member site")
