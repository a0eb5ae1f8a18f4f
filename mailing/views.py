"""The unsubscribe link of a mail to members: a GET shows a page with a button and changes nothing (mail
scanners and link previews open links); a POST, the page's button or the mail client's RFC 8058 one-click
request, withdraws the consent. The POST needs no CSRF token: the one-click request comes from the mail
provider or client, which has none, and the signed token in the URL is the authority."""

from django.core import signing
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from mailing.composing import unsubscribe_token_read
from mailing.services import mailing_unsubscribe
from members.models import Consent


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        _member_id, purpose = unsubscribe_token_read(token)
    except signing.BadSignature as error:
        raise Http404 from error
    context = {"purpose": Consent.Purpose(purpose).label}
    if request.method == "POST":
        try:
            mailing_unsubscribe(token=token)
        except signing.BadSignature as error:
            raise Http404 from error
        return render(request, "mailing/unsubscribed.html", context)
    return render(request, "mailing/unsubscribe.html", context)
