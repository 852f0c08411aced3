"""Who may talk to the studio: the holder of its token, through an address it is bound to.

Two checks guard every request, before any route runs:

- the token (secrets.token_urlsafe, printed at start) as `?token=`, an
  `X-Vbr-Token` header, or the cookie the page gets on its first load: a page
  on another origin cannot know it;
- the Host header must name the bound address (DNS rebinding: a hostile page
  whose domain resolves to 127.0.0.1 sends its own domain as Host).

Both failures answer 403 with no detail.
"""

from __future__ import annotations

import ipaddress
import secrets
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

TOKEN_HEADER = "x-vbr-token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def cookie_name(port: int) -> str:
    """Cookies do not separate ports: two studios on one machine each get their own."""
    return f"vbr_studio_{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """Host header values the studio answers; None for a wildcard bind (see host_allowed)."""
    if host in WILDCARDS:
        return None
    named = f"[{host}]" if ":" in host else host
    hosts = {f"{named}:{port}"}
    if is_loopback(host):
        hosts.update(f"{name}:{port}" for name in LOOPBACK_NAMES)
    return frozenset(hosts)


def host_allowed(header: str | None, allowed: frozenset[str] | None, port: int) -> bool:
    """Whether a Host header names this server.

    Bound to a wildcard address, the studio cannot list its names, so it takes an IP
    literal or localhost with its own port: a DNS-rebinding page always sends a name.
    """
    if not header:
        return False
    header = header.lower()
    if allowed is not None:
        return header in allowed
    name, sep, given_port = header.rpartition(":")
    if not sep or given_port != str(port):
        return False
    if name == "localhost":
        return True
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return False
    return True


def token_given(scope: Scope, cookie: str) -> str | None:
    """The token a request carries: query parameter, header or cookie, in that order."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    headers = _headers(scope)
    if TOKEN_HEADER in headers:
        return headers[TOKEN_HEADER]
    if "cookie" in headers:
        jar = SimpleCookie()
        try:
            jar.load(headers["cookie"])
        except Exception:  # a malformed cookie header carries no token
            return None
        if cookie in jar:
            return jar[cookie].value
    return None


def token_matches(given: str | None, token: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), token.encode())


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


class Guard:
    """ASGI middleware: 403 unless the Host is the studio's and the token is right."""

    def __init__(self, app: ASGIApp, token: str, host: str, port: int):
        self.app = app
        self.token = token
        self.port = port
        self.allowed = allowed_hosts(host, port)
        self.cookie = cookie_name(port)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":  # the studio has no websocket route: Starlette refuses those
            host = _headers(scope).get("host")
            if not host_allowed(host, self.allowed, self.port) or not token_matches(token_given(scope, self.cookie), self.token):
                await _forbidden(send)
                return
        await self.app(scope, receive, send)


async def _forbidden(send: Callable[[dict], Awaitable[None]]) -> None:
    await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain"), (b"content-length", b"10")]})
    await send({"type": "http.response.body", "body": b"forbidden\n"})
