"""Why a donation was refused: a stable machine code and a message in the user's language.

Every refusal is a DonationRefused, which is a ledger error too, so `except LedgerError` also catches what
the point ledger refuses during a donation (points.errors.InsufficientPoints, MemberNotUsable).
"""

from django.utils.translation import gettext_lazy as _

from points.errors import LedgerError


class DonationRefused(LedgerError):
    code = "donation_refused"
    default_message = _("The donation was refused.")


class InvalidRequest(DonationRefused):
    code = "invalid_request"
    default_message = _("The donation request is not valid.")


class OrganisationNotAccepting(DonationRefused):
    code = "organisation_not_accepting"
    default_message = _("“%(organisation)s” does not accept donations at the moment.")

    def __init__(self, *, organisation):
        self.organisation = organisation
        super().__init__(self.default_message % {"organisation": organisation.name}, organisation=organisation.pk)


class KeyUsedForAnother(DonationRefused):
    code = "idempotency_key_reused"
    default_message = _("This request key was already used for another donation.")


class DonationCloseError(Exception):
    """The monthly close cannot run; the message says why, in the user's language."""
