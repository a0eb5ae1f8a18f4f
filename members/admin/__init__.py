"""Members and cards in the back office.

Personal data is encrypted, so searching goes through blind indexes
(members.selectors) and every write through members.services. Staff without
members.view_personal_data see members by pseudonym and clear attributes only.

points/admin.py subclasses MemberAdmin (the ledger's context), and
lifecycle/admin.py subclasses that for the member page staff use (the summary,
adjust, card replacement, merge, withdrawal, suspension); keep `inlines`,
`actions` and `get_urls` extendable.
"""

from members.admin.cards import CardAdmin, CardEventAdmin
from members.admin.consents import ConsentAdmin, ConsentPolicyAdmin, ProvisionAdmin, ThirdPartyAdmin
from members.admin.members import MemberAdmin

__all__ = [
    "CardAdmin",
    "CardEventAdmin",
    "ConsentAdmin",
    "ConsentPolicyAdmin",
    "MemberAdmin",
    "ProvisionAdmin",
    "ThirdPartyAdmin",
]
