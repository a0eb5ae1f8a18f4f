"""Who may do what in the back office, as data.

Each role is a Django group whose permissions are exactly what `ROLES` grants.
`sync_role_groups()` makes the groups match the policy; a data migration calls
it (with the historical app registry) whenever the policy or the models
change, so a new app's migration that extends a role just calls it again.
Grants for apps or models not installed (yet) are skipped.

Staff accounts get `is_staff=True` and one of these groups; the admin then
shows each of them only what their permissions allow.
"""

from dataclasses import dataclass

SECRETARIAT = "secretariat"
OPERATOR = "operator"
AUDITOR = "auditor"

ALL = None


@dataclass(frozen=True)
class Grant:
    """Permissions on the models of one app.

    `actions` ("view", "add", ...) apply to `models`; ALL actions means every
    permission of those models, custom ones included; ALL models means every
    model of the app. `extra` names further permission codenames of the app.
    """

    app_label: str
    actions: tuple[str, ...] | None = ALL
    models: tuple[str, ...] | None = ALL
    extra: tuple[str, ...] = ()


_OUR_APPS = ("audit", "stores", "members", "points", "billing")

ROLES: dict[str, tuple[Grant, ...]] = {
    # 事務局: runs the programme.
    SECRETARIAT: (
        *(Grant(app) for app in _OUR_APPS),
        Grant("campaigns"),
        Grant("coupons"),
        Grant("rallies"),
        # The gift-certificate desk: catalogue, stock, exchanges, overrides and cancellations.
        Grant("exchange"),
        # Member ranks: the ladders and rules (members' ranks and their history are read-only in the admin).
        Grant("ranks"),
        # Bringing a programme's old system over: uploads, dry runs, imports and rollbacks.
        Grant("legacy"),
        # Point donations: the organisations, the desk's donations, the monthly close and its payment.
        Grant("donations"),
        # QR events and flyers, their posters, and each store's visit code at the counter.
        Grant("qrpoints"),
        # Card-linked offers: created for merchants, published, stopped; activations and payouts are history.
        Grant("offers"),
        # Mail to members: mailings, the send log, the monthly expiry reminders.
        Grant("mailing"),
        # The analytics reports (read-only: the summaries are the ledger's); a month's reports made by hand.
        Grant("analytics", actions=("view",), extra=("make_monthlyreport",)),
        Grant("auth", actions=("view",)),
        Grant("django_q", actions=("view", "add")),
        # To see and clear login lockouts of colleagues.
        Grant("axes", actions=("view", "delete")),
    ),
    # 運用担当: campaigns and reports; no personal data, so nothing of members.
    OPERATOR: (
        Grant("campaigns", models=("campaign",)),
        Grant("campaigns", actions=("view",), models=("campaignapplication",)),
        # Coupon templates and rallies are the operators' to run; issued coupons, stamps and draws are history.
        Grant("coupons", models=("coupontemplate",)),
        Grant("coupons", actions=("view",)),
        Grant("rallies", models=("rally", "rallygoal")),
        Grant("rallies", actions=("view",)),
        # QR events and flyers are the operators' to run; claims, flyer rights and stores' codes are history.
        Grant("qrpoints", models=("qrevent", "flyer")),
        Grant("qrpoints", actions=("view",)),
        Grant("offers", actions=("view",)),
        Grant("stores", actions=("view",)),
        Grant("points", actions=("view",), models=("programme", "participation", "entry", "account", "lot")),
        Grant("ranks", actions=("view",), models=("rankpolicy", "rank")),
        # Mail to members: they write, schedule and send mailings and reminders; the send log is history.
        Grant("mailing", actions=("view", "add", "change", "send"), models=("mailing", "expiryreminder")),
        Grant("mailing", actions=("view",), models=("delivery",)),
        Grant("analytics", actions=("view",)),
    ),
    # 監査: reads everything, changes nothing.
    AUDITOR: (
        *(Grant(app, actions=("view",)) for app in _OUR_APPS),
        Grant("campaigns", actions=("view",)),
        Grant("coupons", actions=("view",)),
        Grant("rallies", actions=("view",)),
        Grant("exchange", actions=("view",)),
        Grant("ranks", actions=("view",)),
        Grant("legacy", actions=("view",)),
        Grant("donations", actions=("view",)),
        Grant("qrpoints", actions=("view",)),
        Grant("offers", actions=("view",)),
        Grant("mailing", actions=("view",)),
        Grant("analytics", actions=("view",)),
        Grant("members", actions=(), extra=("view_personal_data",)),
    ),
}


def _grants_permission(grant: Grant, codename: str, model: str) -> bool:
    if codename in grant.extra:
        return True
    if grant.models is not ALL and model not in grant.models:
        return False
    if grant.actions is ALL:
        return True
    return codename in {f"{action}_{model}" for action in grant.actions}


def role_permissions(role: str, *, apps=None):
    """The Permission rows a role's policy grants, among those that exist."""
    if apps is None:
        from django.apps import apps
    Permission = apps.get_model("auth", "Permission")
    grants = ROLES[role]
    candidates = Permission.objects.filter(content_type__app_label__in={grant.app_label for grant in grants})
    return [
        permission
        for permission in candidates.select_related("content_type")
        if any(
            grant.app_label == permission.content_type.app_label
            and _grants_permission(grant, permission.codename, permission.content_type.model)
            for grant in grants
        )
    ]


def sync_role_groups(apps=None) -> None:
    """Create the role groups, and set each one's permissions to exactly its policy.

    Pass the migration's `apps` from a data migration. Permissions must exist
    first (in a migration: `create_permissions` for every app config).
    """
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(role_permissions(role, apps=apps))


def migrate_role_groups(apps, schema_editor) -> None:
    """For a data migration (`RunPython(migrate_role_groups, RunPython.noop)`): create the permissions of
    every app migrated so far (normally only done after all migrations, on post_migrate), then sync."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    sync_role_groups(apps)
