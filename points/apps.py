from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = _("Points")

    def ready(self):
        from common.scoping import resolve_scopes_with
        from points.selectors import staff_programme_ids

        # The back office asks here which programmes a staff member works for (common/scoping.py).
        resolve_scopes_with(staff_programme_ids)
