"""The OpenAPI document of the terminal API, generated from api.schemas (being built)."""

from django.http import HttpResponse


def openapi_json(request):
    return HttpResponse(status=501)


def docs(request):
    return HttpResponse(status=501)
