"""Mail to members for a purpose (the mail magazine, direct mail): sent only to those whose consent holds at
the moment each message goes out, read from the consent ledger just before it, whatever the list of
recipients said when it was drawn up. A member who withdrew an instant before is skipped."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.mail import EmailMessage, get_connection
from django.template import Context, Template

from members.models import Member
from members.selectors import members_consenting


def member_mail_send(*, member_ids: Iterable[int], purpose: str, subject: str, body: str) -> list[int]:
    """Send subject and body (a Django template: `{{ name }}`, `{{ pseudonym }}`) to each member, in the order
    given, whose consent to purpose holds when their message is sent and who has an e-mail address. Returns
    the ids of the members sent to."""
    template = Template(body)
    sent = []
    with get_connection() as connection:
        for member_id in member_ids:
            one = Member.objects.filter(pk=member_id).only("pk", "pseudonym", "name", "email", "status")
            member = members_consenting(one, purpose=purpose).first()
            if member is None or not member.email:
                continue
            text = template.render(Context({"name": member.name, "pseudonym": member.pseudonym}))
            EmailMessage(subject, text, to=[member.email], connection=connection).send()
            sent.append(member.pk)
    return sent
