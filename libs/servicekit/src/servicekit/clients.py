"""The address of the client behind a request: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """ "127.0.0.1, 10.0.0.0/8" -> the networks (a bare address is a network of one)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()
    )


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, trusted_proxies: str) -> str:
    """The first address, walking X-Forwarded-For from the right, that is not a trusted proxy.

    A client can write anything into X-Forwarded-For; only the entries appended by our own proxies
    (the right end of the list) can be believed, so the walk stops at the first untrusted one.
    """
    peer = request.client.host if request.client else "unknown"
    networks = trusted_networks(trusted_proxies)
    if not _trusted(peer, networks):
        return peer
    forwarded = [
        part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()
    ]
    for address in reversed(forwarded):
        if not _trusted(address, networks):
            return address
    return forwarded[0] if forwarded else peer
