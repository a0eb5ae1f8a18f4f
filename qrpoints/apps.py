from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QrpointsConfig(AppConfig):
    name = "qrpoints"
    verbose_name = _("QR points")
