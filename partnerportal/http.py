"""Request typing for views: django-htmx adds `request.htmx`."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """An HttpRequest that passed through django-htmx's middleware."""

    htmx: HtmxDetails
