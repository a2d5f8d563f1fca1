"""Network tests for role input validation: pure functions over Python's ipaddress."""

from __future__ import annotations

import ipaddress


def is_ip(value) -> bool:
    """True for an IPv4/IPv6 address literal such as '127.0.0.1' or '::1'."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def is_cidr(value) -> bool:
    """True for a network in CIDR form ('10.0.0.0/8', '203.0.113.7/32', '::/0').

    Host bits must be zero, so a typo like '10.0.0.1/8' is rejected rather than widened.
    """
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return True


class TestModule:
    """Jinja tests: `addr is ved_is_ip`, `net is ved_is_cidr`."""

    def tests(self):
        return {"ved_is_ip": is_ip, "ved_is_cidr": is_cidr}
