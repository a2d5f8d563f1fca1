"""Network tests for role input validation: pure functions over Python's ipaddress.

One home for what "world-open" means, used by every role's validation (docs/HARDENING.md):

- ``ved_is_world_open``: a CIDR that lets (nearly) the whole Internet in: prefix shorter than
  /8 (IPv4) or /16 (IPv6), so 0.0.0.0/0, ::/0, 0.0.0.0/1, 2000::/3. 10.0.0.0/8 is not.
- ``ved_is_public_range``: a CIDR wider than one host that holds globally routable addresses
  (not private, loopback, link-local, shared 100.64/10, ULA or documentation space).
- ``ved_is_wildcard_address``: a bind/listen address that means "every interface".
- ``ved_ip_in_cidrs``: an address inside any of some CIDRs (the base role's lock-out check:
  is the controller inside the SSH sources about to be applied?).
"""

from __future__ import annotations

import ipaddress

# Narrower than these is a network; at or wider, "the Internet" for our purposes.
WORLD_PREFIX = {4: 8, 6: 16}
# Recognised, never bound to: hence the noqa for ruff's "binding to all interfaces".
WILDCARDS = frozenset({"*", "0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "::0"})  # noqa: S104
# Address space that is never routed on the Internet: a CIDR wholly inside one of these is
# not public (subnet checks, since ipaddress' is_private on a network only looks at its ends).
_NON_ROUTABLE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
        "fc00::/7", "fe80::/10", "::1/128", "2001:db8::/32",
    )
)  # fmt: skip


def is_ip(value) -> bool:
    """True for an IPv4/IPv6 address literal such as '127.0.0.1' or '::1'."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _network(value):
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        return None


def is_cidr(value) -> bool:
    """True for a network in CIDR form ('10.0.0.0/8', '203.0.113.7/32', '::/0').

    Host bits must be zero, so a typo like '10.0.0.1/8' is rejected rather than widened.
    """
    return _network(value) is not None


def _non_routable(net) -> bool:
    return any(net.version == n.version and net.subnet_of(n) for n in _NON_ROUTABLE)


def is_world_open(value) -> bool:
    """True for a CIDR covering (nearly) every address: prefix < /8 (IPv4) or < /16 (IPv6),
    unless it lies in non-routable space (fd00::/8 is a private range, not the world)."""
    net = _network(value)
    return net is not None and net.prefixlen < WORLD_PREFIX[net.version] and not _non_routable(net)


def is_public_range(value) -> bool:
    """True for a CIDR of more than one host that is not wholly in non-routable space."""
    net = _network(value)
    if net is None or net.num_addresses == 1:
        return False
    return not _non_routable(net)


def is_wildcard_address(value) -> bool:
    """True for '*', '0.0.0.0', '::' and their spellings: listen on every interface."""
    text = str(value).strip()
    if text in WILDCARDS:
        return True
    try:
        return ipaddress.ip_address(text.strip("[]")).is_unspecified
    except ValueError:
        return False


def ip_in_cidrs(address, cidrs) -> bool:
    """``'10.88.0.1' is ved_ip_in_cidrs(['10.88.0.0/16'])``. An IPv4-mapped IPv6 address
    (``::ffff:10.88.0.1``, as sshd may report it on a dual-stack socket) counts as its IPv4 form."""
    try:
        addr = ipaddress.ip_address(str(address).strip().strip("[]").split("%")[0])
    except ValueError:
        return False
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for cidr in cidrs or []:
        try:
            net = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            continue
        if net.version == addr.version and addr in net:
            return True
    return False


class TestModule:
    """Jinja tests: `addr is ved_is_ip`, `net is ved_is_cidr`, `net is ved_is_world_open`,
    `net is ved_is_public_range`, `addr is ved_is_wildcard_address`, `addr is ved_ip_in_cidrs(nets)`."""

    def tests(self):
        return {
            "ved_is_ip": is_ip,
            "ved_is_cidr": is_cidr,
            "ved_is_world_open": is_world_open,
            "ved_is_public_range": is_public_range,
            "ved_is_wildcard_address": is_wildcard_address,
            "ved_ip_in_cidrs": ip_in_cidrs,
        }
