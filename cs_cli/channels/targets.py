"""Where a webhook or in-app message goes: its host resolved once, every
address checked against the rules of cs_cli.domain.outbound, and the
request then sent to the address checked, never to the name (resolving it
a second time would let a DNS answer change in between: rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from cs_cli.domain.outbound import (
    METADATA_NAMES,
    AllowList,
    IPAddress,
    Refused,
    canonical,
    normal_host,
    url_problem,
)


class Unresolved(OSError):
    """The name could not be resolved now (it may resolve later)."""


Resolver = Callable[[str, int], Sequence[IPAddress]]


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for host (TCP)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise Unresolved(str(exc)) from None
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class Destination:
    """A URL checked: the host it names, the port, and the address to
    connect to (one of those checked)."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress

    @property
    def where(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def pinned_url(self) -> str:
        """The URL with the checked address in place of the name (the
        request goes there; the name travels in Host and for TLS)."""
        parts = urlsplit(self.url)
        ip = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return urlunsplit(SplitResult(parts.scheme, f"{ip}:{self.port}", parts.path, parts.query, ""))

    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def resolve(url: str, allow: AllowList, resolver: Resolver = system_resolver) -> Destination:
    """Check a URL against the allow-list after resolving its host: every
    address must pass. Refused (never allowed), Unresolved (try later)."""
    problem = url_problem(url)
    if problem:
        raise Refused(problem)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = normal_host(parts.hostname or "")
    port = parts.port or (443 if scheme == "https" else 80)
    if host in METADATA_NAMES and not any(e.name == host for e in allow.entries):
        raise Refused(f"{host} is a cloud metadata service")
    addresses = list(resolver(host, port))
    if not addresses:
        raise Unresolved(f"{host} resolves to no address")
    for address in addresses:
        why = allow.admits(host, port, address)
        if why:
            said = f"{host} is {why}" if str(canonical(address)) == host else f"{host} resolves to {why}"
            raise Refused(f"{said}: refused (see outbound_allow)")
    # An IPv4 address written as IPv6 (::ffff:a.b.c.d) was checked as IPv4: connect to that.
    return Destination(url, scheme, host, port, canonical(addresses[0]))
