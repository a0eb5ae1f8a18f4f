"""What the member and card admins share: masking and lists that skip encrypted columns."""

from __future__ import annotations

from django.contrib.admin.views.main import ChangeList

from members.services import (
    PERSONAL_FIELDS,
)

MASK = "●●●"
MEMBER_ENCRYPTED_FIELDS = PERSONAL_FIELDS


def can_view_personal_data(request) -> bool:
    return request.user.has_perm("members.view_personal_data")


def defer_related_member(prefix: str) -> list[str]:
    # A member loaded alongside a card or an event would decrypt six fields nobody reads there.
    return [f"{prefix}__{field}" for field in MEMBER_ENCRYPTED_FIELDS]


class PageDeferringChangeList(ChangeList):
    """Loads the shown page without the columns the list does not display.

    Encrypted columns cost a decryption each; the page leaves them out. The
    full queryset (actions, export) is untouched: get_queryset is not changed.
    """

    def get_results(self, request):
        self.queryset = self.queryset.defer(*self.model_admin.get_changelist_deferred_fields(request))
        super().get_results(request)
