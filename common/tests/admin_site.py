"""A private admin site with the back-office import/export admins, so these
tests do not depend on how each app's own admin is configured."""

from django.contrib.admin import AdminSite

from audit.backoffice import BackofficeAdmin
from members.models import Card, Member
from members.resources import CardResource, MemberResource
from stores.models import Merchant, Store, Terminal
from stores.resources import MerchantResource, StoreResource, TerminalResource

site = AdminSite(name="admin")

for model, resource in [
    (Merchant, MerchantResource),
    (Store, StoreResource),
    (Terminal, TerminalResource),
    (Member, MemberResource),
    (Card, CardResource),
]:
    site.register(model, type(f"{model.__name__}Admin", (BackofficeAdmin,), {"resource_classes": [resource]}))
