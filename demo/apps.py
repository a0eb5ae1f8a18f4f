from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo shopping street that `make run` loads: its commands read and write every other app, so the
    app sits on top, beside the project package."""

    name = "demo"
    verbose_name = _("Demo")
