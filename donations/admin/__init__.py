"""Point donations in the back office: the organisations (with the desk's "record a donation"), the
donations (read-only), and the monthly settlements (the close, the notices, the transfer file)."""

from common.scoping import register_programme_paths
from donations.admin.donations import DonationAdmin
from donations.admin.organisations import OrganisationAdmin
from donations.admin.settlements import DonationSettlementAdmin
from donations.models import Donation, DonationSettlement, Organisation

register_programme_paths(
    {
        Organisation: "programme",
        Donation: "organisation__programme",
        DonationSettlement: "organisation__programme",
    }
)

__all__ = ["DonationAdmin", "DonationSettlementAdmin", "OrganisationAdmin"]
