"""The back office's admin site: the index lists the secretariat's daily work first and the system screens
(users and groups, background tasks, login lockouts) last, under Japanese names. Who sees a system screen
is decided by the roles (loyalty/roles.py): the secretariat and superusers, nobody else.

Every ModelAdmin registered here, ours and those of Django, django-q2 and axes alike, is given the firewall
between programmes (common.scoping.ProgrammeScopedAdmin) as it is registered, so that no admin can be
added without it: staff who work for some programmes read and change only their programmes' rows, and a
model that belongs to no programme is hidden from them."""

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _

from common.privacy import SMALL_GROUP_LABEL
from common.replica import reading_from_replica
from common.scoping import ProgrammeScopedAdmin, request_scope
from loyalty.roles import AUDITOR, OPERATOR, SECRETARIAT

# The order of the index; an app not named comes after these and before the system screens.
DAILY_WORK = (
    "members",
    "points",
    "exchange",
    "donations",
    "campaigns",
    "coupons",
    "rallies",
    "stores",
    "billing",
    "analytics",
    "audit",
)
SYSTEM = {
    "auth": _("System: users and groups"),
    "django_q": _("System: background tasks"),
    "axes": _("System: login attempts and lockouts"),
}
# What each role's home page shows above the index (the sections of analytics.selectors.dashboard); the
# links of what is due lead to the pages where it is acted on, or, for staff who may only read them, to the
# pages that show it.
DASHBOARD_SECTIONS = {
    SECRETARIAT: frozenset({"figures", "terminals", "due", "promotions"}),
    AUDITOR: frozenset({"figures", "terminals", "due", "promotions"}),
    OPERATOR: frozenset({"figures", "promotions"}),
}


class BackOfficeSite(AdminSite):
    # The lists need the width of a 1,366 px screen; the index and the breadcrumbs lead everywhere the
    # sidebar did.
    enable_nav_sidebar = False

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, ProgrammeScopedAdmin):
            admin_class = type(
                admin_class.__name__,
                (ProgrammeScopedAdmin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            if app["app_label"] in SYSTEM:
                app["name"] = SYSTEM[app["app_label"]]
            for entry in app["models"]:
                # A model admin that is a report (analytics) leads from the index to the report itself.
                index_url = getattr(self._registry.get(entry["model"]), "index_url", None)
                if index_url is not None:
                    entry["admin_url"] = index_url()
        return sorted(apps, key=lambda app: (_place(app["app_label"]), str(app["name"])))

    def index(self, request, extra_context=None):
        """The home page: the dashboard of the staff member's role above the index."""
        # The admin site is made as the apps load, before their models can be imported.
        from analytics.selectors.dashboard import dashboard

        sections = dashboard_sections(request.user)
        extra_context = dict(extra_context or {})
        if sections:
            # Figures of the summaries and what is due: a replica a few seconds behind serves them.
            with reading_from_replica():
                extra_context["dashboard"] = dashboard(
                    programme_ids=request_scope(request).programme_ids, sections=sections, can=request.user.has_perm
                )
            extra_context["small_group_label"] = SMALL_GROUP_LABEL
        return super().index(request, extra_context)


def dashboard_sections(user) -> frozenset[str]:
    """The dashboard's sections for the user's roles (a superuser's: the secretariat's)."""
    if user.is_superuser:
        return DASHBOARD_SECTIONS[SECRETARIAT]
    roles = user.groups.filter(name__in=DASHBOARD_SECTIONS).values_list("name", flat=True)
    return frozenset().union(*(DASHBOARD_SECTIONS[role] for role in roles))


def _place(app_label: str) -> int:
    if app_label in DAILY_WORK:
        return DAILY_WORK.index(app_label)
    if app_label in SYSTEM:
        return len(DAILY_WORK) + 1 + list(SYSTEM).index(app_label)
    return len(DAILY_WORK)


class BackOfficeAdminConfig(AdminConfig):
    default_site = "loyalty.admin_site.BackOfficeSite"
