"""Sign-in throttling (django-axes): whose address a request is counted against."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def request_client_address(request: HttpRequest) -> str:
    """The client's IP address: the connection's own, or behind TRUSTED_PROXY_COUNT proxies the
    address the outermost of them saw.

    Each proxy appends the address it was connected from to X-Forwarded-For, so the one that
    matters is `TRUSTED_PROXY_COUNT` entries from the right; whatever stands further left came
    from the client and proves nothing.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= count:
            try:
                return str(ipaddress.ip_address(hops[-count]))
            except ValueError:
                pass  # a proxy that writes something else: fall back to the connection
    return remote
