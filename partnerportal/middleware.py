"""Requests no page of the portal can answer, refused before any view or query sees them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


def nul_refusing_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """A NUL in the path or the query string is a 400.

    No address of the portal carries one, and PostgreSQL refuses NUL in text: a search box, an
    admin list filter or a facet count that passed it to a query answered 500. Forms refuse NUL
    on their own (Django's CharField), so posted data is left to them.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in name or any("\x00" in value for value in values) for name, values in request.GET.lists()
        ):
            return HttpResponseBadRequest("An address with a NUL character is not one of the portal's.")
        return get_response(request)

    return middleware
