"""What every member API request goes through: the session (a bearer secret), the policy in force, the body's
size and strict parsing (api.pipeline's, as the terminal API's), and the site's forms for what a member types;
then the handler, whose refusals become the error shape in the caller's language. No answer is cached: every
one is the member's own data."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel

from api.errors import ApiError, json_response
from api.pipeline import parse, read_body
from members.models import Member
from membersite import services
from membersite.api.errors import invalid, refusal, unauthorized
from membersite.services import MemberSiteError

MAX_BODY = 16 * 1024

Handler = Callable[..., tuple[int, BaseModel | HttpResponse | None]]


def bearer_key(request: HttpRequest) -> str:
    scheme, _sep, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def signed_in_member(request: HttpRequest, *, policy: bool) -> Member:
    member = services.api_session_member(key=bearer_key(request))
    if member is None:
        raise unauthorized()
    if policy and services.member_needs_policy(member=member):
        raise ApiError(
            403, "policy_not_agreed", _("The privacy policy has changed. Please read it and answer again first.")
        )
    return member


def form_cleaned(form_class, data: dict) -> dict:
    """The member site's form's cleaned data for these values, or 400 with each field's messages."""
    form = form_class(data=data)
    if not form.is_valid():
        raise invalid(
            [
                {"field": "(body)" if name == "__all__" else name, "problem": "refused", "message": message}
                for name, messages in form.errors.items()
                for message in messages
            ]
        )
    return form.cleaned_data


def _response(status: int, answer: BaseModel | HttpResponse | None) -> HttpResponse:
    """The handler's answer: a model as JSON, a file (a PDF) as it is, or no body."""
    if isinstance(answer, HttpResponse):
        answer.status_code = status
        return answer
    if answer is None:
        return HttpResponse(status=status)
    return json_response(answer.model_dump(mode="json"), status=status)


def endpoint(*, model: type[BaseModel] | None = None, signed_in: bool = True, policy: bool = True):
    """Turn `handler(request, member, data, **kw) -> (status, model, file response or None)` into one method of a
    member API URL (see `methods`). `signed_in=False`: no session needed (member None); `policy=False`: answered before
    the member agrees to a new policy."""

    def decorate(handler: Handler):
        @functools.wraps(handler)
        def view(request: HttpRequest, **kwargs) -> HttpResponse:
            try:
                member = signed_in_member(request, policy=policy) if signed_in else None
                data = parse(model, read_body(request, MAX_BODY)) if model is not None else None
                status, answer = handler(request, member, data, **kwargs)
            except ApiError as error:
                response = error.response()
            except MemberSiteError as error:
                response = refusal(error).response()
            else:
                response = _response(status, answer)
            add_never_cache_headers(response)
            return response

        view.api_model, view.api_signed_in = model, signed_in
        return view

    return decorate


def methods(**handlers):
    """One URL of the member API: its endpoint for each HTTP method (get=..., post=...)."""
    allowed = ", ".join(method.upper() for method in handlers)

    @csrf_exempt
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        handler = handlers.get(request.method.lower())
        if handler is None:
            error = ApiError(405, "method_not_allowed", _("Use %(method)s.") % {"method": allowed})
            response = error.response()
            response["Allow"] = allowed
            return response
        return handler(request, **kwargs)

    view.api_handlers = handlers
    return view
