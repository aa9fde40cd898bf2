"""The client's address: one function, used by the audit trail and the rate limits.

Behind a reverse proxy the peer is the proxy. X-Forwarded-For is believed only when the peer is one of
the configured trusted proxies (MR_TRUSTED_PROXIES, addresses or CIDR networks), and then read from the
right, skipping trusted hops: the first address that is not a trusted proxy is the client. A header
sent by anyone else is ignored, so no caller can choose the address it is audited or limited under.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from functools import lru_cache
from typing import Any

from litestar.connection import ASGIConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def parse_networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(s.strip(), strict=False) for s in spec if s.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def resolve(peer: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str | None:
    """The client's address given the peer, the X-Forwarded-For values (in order) and the trusted proxies."""
    if peer is None:
        return None
    peer_ip = _address(peer)
    if peer_ip is None or not any(peer_ip in n for n in trusted):
        return peer
    hops = [h for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _address(hop)
        if ip is None:
            return peer  # a malformed chain: the last trusted hop is all that is known
        if not any(ip in n for n in trusted):
            return str(ip)
    return peer


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    settings = connection.app.state.settings
    trusted = parse_networks(tuple(getattr(settings, "trusted_proxies", ()) or ()))
    peer = connection.client.host if connection.client else None
    if not trusted:
        return peer
    values = [v.decode("latin-1") for k, v in connection.scope["headers"] if k == b"x-forwarded-for"]
    return resolve(peer, values, trusted)


def keyed_address(connection: ASGIConnection[Any, Any, Any, Any], purpose: str) -> str:
    """HMAC-SHA256 of the client address under the service's secret: counts a caller without knowing it."""
    secret: bytes = connection.app.state.settings.secret_key
    address = client_address(connection) or "unknown"
    return hmac.new(secret, purpose.encode() + b":" + address.encode(), hashlib.sha256).hexdigest()
