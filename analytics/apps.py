from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from analytics.verification import summary_problems
        from points.verification import register_reconciliation

        # verify_ledger (points) reconciles the summary tables with the ledger without importing this app.
        register_reconciliation("analytics", summary_problems)
