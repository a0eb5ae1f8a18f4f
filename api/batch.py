"""Offline upload: a terminal's stored transactions in one request (being built)."""

from django.http import HttpResponse


def batch(request):
    return HttpResponse(status=501)
