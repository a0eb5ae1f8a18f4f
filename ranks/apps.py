from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RanksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ranks"
    verbose_name = _("Member ranks")
