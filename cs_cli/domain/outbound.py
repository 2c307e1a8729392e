"""Outbound requests: which URLs and addresses webhooks and in-app messages
may go to (docs/security.md, "Outbound requests"), and how a URL is shown.

An outbound POST is a request cs makes on someone's say-so (a journey's URL,
the in_app_url setting), from inside your network. Left open, it can reach
what the internet cannot: the database port, an admin console on loopback,
a cloud's metadata service that hands out credentials. This module holds the
rules (pure, no lookups): a URL's form (`url_problem`: http or https, a
host, no `user:password@`, an IP address only in its usual spelling), the
classes of addresses refused (`address_problem`) and the allow-list
(`parse_allow_list`). channels/targets.py resolves a host and applies them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata services hand out the machine's credentials to whoever
# asks from inside; refused even where they are public (Azure's wire server).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "168.63.129.16",  # Azure wire server
    )
)
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
PUBLIC = "public"

# A label that inet_aton would read as a number: decimal, octal or hex.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
_NAME = re.compile(r"(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")


class Refused(ValueError):
    """The destination is not allowed (its form, or an address it resolves to)."""


def normal_host(host: str) -> str:
    """The host as it is compared and resolved: ASCII (IDNA), lower case,
    without a trailing dot, an IP address in its usual form. Refused: a
    number that is not an IP address's usual spelling, or no host at all."""
    raw = host.strip().lower()
    if raw.startswith("[") and raw.endswith("]"):
        raw = raw[1:-1]
    if raw.endswith(".") and not raw.endswith(".."):
        raw = raw[:-1]
    if not raw:
        raise Refused("no host")
    try:
        return str(canonical(ipaddress.ip_address(raw)))
    except ValueError:
        pass
    if ":" in raw or "%" in raw:
        raise Refused(f"{host!r} is not a host name or an IP address")
    try:
        # Fullwidth digits and other look-alikes become what a resolver sees.
        ascii_host = raw.encode("idna").decode("ascii") if not raw.isascii() else raw
    except UnicodeError:
        raise Refused(f"{host!r} is not a host name") from None
    labels = ascii_host.split(".")
    if all(_NUMERIC_LABEL.fullmatch(label) for label in labels):
        try:
            return str(ipaddress.ip_address(ascii_host))
        except ValueError:
            raise Refused(
                f"{host!r} is an IP address written oddly (decimal, octal or hex); write it as a.b.c.d"
            ) from None
    if not _NAME.fullmatch(ascii_host) or ascii_host.startswith("*"):
        raise Refused(f"{host!r} is not a host name")
    return ascii_host


def canonical(address: IPAddress) -> IPAddress:
    """An IPv6 address that carries an IPv4 one (mapped ::ffff:a.b.c.d,
    the old compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4) reaches
    that IPv4 address: check that one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        packed = int(address)
        if packed >> 32 == 0 and packed > 1:  # ::a.b.c.d (not :: or ::1)
            return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
        if packed >> 32 == 0x64FF9B << 64:
            return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def address_problem(address: IPAddress) -> str | None:
    """What makes an address one that outbound requests must not reach
    unless allowed: None for a public one."""
    address = canonical(address)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def url_problem(url: object) -> str | None:
    """Why a URL can never be a destination (form only, no lookup): None if
    it can be. The reason never repeats the URL (it may hold a secret)."""
    if not isinstance(url, str):
        return "not a URL"
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        return "a URL has no spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL (its port or host cannot be read)"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http:// and https:// URLs"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "credentials in a URL are refused: put the secret in a setting (e.g. webhook_secret)"
    if not parts.hostname:
        return "no host in the URL"
    if port == 0:
        return "port 0"
    try:
        normal_host(parts.hostname)
    except Refused as exc:
        return str(exc)
    return None


def where(url: str) -> str:
    """host:port of a URL, what messages name (never its path or query)."""
    try:
        parts = urlsplit(url)
        host = normal_host(parts.hostname or "")
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except (ValueError, Refused):
        return "an unreadable URL"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- the allow-list ---


@dataclass(frozen=True)
class AllowEntry:
    """One entry of outbound_allow: a name (exact, or `*.` and its
    subdomains) or a network (one address or a CIDR), with a port or any."""

    name: str | None = None
    network: IPNetwork | None = None
    port: int | None = None

    def admits(self, host: str, port: int, address: IPAddress) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.name is not None:
            if self.name.startswith("*."):
                return host.endswith(self.name[1:])
            return host == self.name
        assert self.network is not None
        return address in self.network

    def names_exactly(self, host: str, address: IPAddress) -> bool:
        """Whether the entry names this host or address itself (not a
        wildcard, not a wider network): what admits a metadata service."""
        if self.name is not None:
            # A name of yours that resolves to a metadata address is not
            # the metadata service named: its DNS could be pointed there.
            return self.name == host and host in METADATA_NAMES
        assert self.network is not None
        return self.network.num_addresses == 1 and address in self.network


@dataclass(frozen=True)
class AllowList:
    """outbound_allow read: empty means any public address; entries admit
    what they name (internal addresses included) and nothing else, plus
    every public address when `public` is one of them."""

    entries: tuple[AllowEntry, ...] = ()
    public: bool = True

    def admits(self, host: str, port: int, address: IPAddress) -> str | None:
        """None if a request to host:port may connect to `address`, else why not."""
        address = canonical(address)
        problem = address_problem(address)
        if problem == "a cloud metadata address" or host in METADATA_NAMES:
            if any(e.names_exactly(host, address) and e.admits(host, port, address) for e in self.entries):
                return None
            return "a cloud metadata service"
        if any(e.admits(host, port, address) for e in self.entries):
            return None
        if problem is not None:
            return problem
        if self.public:
            return None
        return "an address not in outbound_allow"


def parse_allow_list(text: str) -> AllowList:
    """'public, hooks.internal, 10.2.0.0/16, 127.0.0.1:8080, [::1]:9000'
    as an AllowList; ValueError naming the first entry it cannot read."""
    entries: list[AllowEntry] = []
    public = False
    items = [item.strip() for item in re.split(r"[,\s]+", text) if item.strip()]
    for item in items:
        if item.lower() == PUBLIC:
            public = True
            continue
        try:
            entries.append(_entry(item))
        except ValueError as exc:
            raise ValueError(f"entry {item!r}: {exc}") from None
    return AllowList(tuple(entries), public=public or not items)


def _entry(item: str) -> AllowEntry:
    host, port = item, None
    bracketed = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", item)
    if bracketed:
        host, port = bracketed.group(1), bracketed.group(2)
    elif item.count(":") == 1:
        host, port = item.split(":")
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("the port must be a number from 1 to 65535")
        port = int(port)
    if "/" in host:
        if port is not None:
            raise ValueError("a network (CIDR) takes no port")
        try:
            network = ipaddress.ip_network(host, strict=True)
        except ValueError as exc:
            raise ValueError(f"not a network like 10.0.0.0/8 ({exc})") from None
        return AllowEntry(network=network)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return AllowEntry(network=ipaddress.ip_network(canonical(address)), port=port)
    wildcard = host.startswith("*.")
    try:
        name = normal_host(host[2:] if wildcard else host)
    except Refused as exc:
        raise ValueError(str(exc)) from None
    if ":" not in name and all(_NUMERIC_LABEL.fullmatch(p) for p in name.split(".")):
        # An IP address after all (e.g. written with a trailing dot).
        return AllowEntry(network=ipaddress.ip_network(name), port=port)
    return AllowEntry(name=f"*.{name}" if wildcard else name, port=port)


# --- masking what is shown ---

_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


def mask_url(url: str) -> str:
    """The URL without its secrets: user and password as ***, every query
    value as *** (a token in a query is a password too)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "&".join(
        (p.split("=", 1)[0] + "=***") if "=" in p else ("***" if p else p) for p in parts.query.split("&")
    )
    fragment = "***" if parts.fragment else ""
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, fragment))


def mask_urls(text: str | None) -> str | None:
    """Every URL in a text masked (see mask_url)."""
    if not text or "://" not in text:
        return text

    def masked(match: re.Match[str]) -> str:
        # Punctuation after a URL ends the sentence, not the URL.
        url = match.group(0)
        core = url.rstrip(".,:;!?)")
        return mask_url(core) + url[len(core) :]

    return _URL_IN_TEXT.sub(masked, text)
