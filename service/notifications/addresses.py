"""Where a department's callback may point: https to a public address, checked when the URL is
registered and again at each delivery, after the name is resolved (no redirect is ever followed).

A callback is an outbound request the service makes on a department's word; without this, a URL naming
the loopback, a private network or the cloud metadata address would make the service call its own
neighbours (server-side request forgery). In development (MR_DEV=1) http and local addresses are
allowed, so a department's test receiver on the same machine works.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class CallbackRefused(Exception):
    """The reason, in Chinese, that a callback URL may not be used."""


def check_syntax(url: str, *, development: bool) -> tuple[str, int]:
    """The host and port of an acceptable URL; CallbackRefused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackRefused("回调地址格式不正确") from exc
    if parts.scheme != "https" and not (development and parts.scheme == "http"):
        raise CallbackRefused("回调地址须使用 https")
    if not parts.hostname:
        raise CallbackRefused("回调地址须含主机名")
    if parts.username or parts.password:
        raise CallbackRefused("回调地址不得包含用户名或密码")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_public(url: str, *, development: bool) -> None:
    """Refuse a URL that is not https, or whose name resolves to any address that is not public
    (loopback, private, link-local and the metadata address 169.254.169.254, multicast, reserved)."""
    host, port = check_syntax(url, development=development)
    if development:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise CallbackRefused("回调地址的主机名无法解析") from exc
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(is_public(a) for a in addresses):
        raise CallbackRefused("回调地址须指向公网地址，不得指向本机、内网、链路本地、组播或云元数据地址")
