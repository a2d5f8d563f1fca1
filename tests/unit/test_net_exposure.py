"""What counts as world-open, public or wildcard: the rules every role's validation uses."""

from __future__ import annotations

import pytest
from net import ip_in_cidrs, is_public_range, is_wildcard_address, is_world_open


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/2", "2000::/3"])
def test_world_open(cidr):
    assert is_world_open(cidr)
    assert is_public_range(cidr)


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "192.168.1.0/24", "fd00::/8", "203.0.113.7/32", "bad", None])
def test_not_world_open(cidr):
    assert not is_world_open(cidr)


@pytest.mark.parametrize("cidr", ["8.8.8.0/24", "1.0.0.0/8", "2001:4860::/32", "52.0.0.0/16"])
def test_public_ranges(cidr):
    assert is_public_range(cidr)


@pytest.mark.parametrize(
    "cidr",
    [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fd00::/8",
        "fe80::/10",
        "::1/128",
        "198.51.100.0/24",  # documentation range, as in the example inventories
        "8.8.8.8/32",  # one host: an app server with a public address
        "2001:db8::/32",
    ],
)
def test_not_public_ranges(cidr):
    assert not is_public_range(cidr)


@pytest.mark.parametrize("addr", ["*", "0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", " 0.0.0.0 "])
def test_wildcards(addr):
    assert is_wildcard_address(addr)


@pytest.mark.parametrize("addr", ["127.0.0.1", "::1", "10.0.0.5", "localhost", "-::1", ""])
def test_not_wildcards(addr):
    assert not is_wildcard_address(addr)


@pytest.mark.parametrize(
    ("addr", "cidrs", "inside"),
    [
        ("10.88.0.1", ["10.88.0.0/16"], True),
        ("::ffff:10.88.0.1", ["10.88.0.0/16"], True),
        ("[2001:db8::5]", ["2001:db8::/32"], True),
        ("192.0.2.7", ["10.0.0.0/8", "bad"], False),
        ("not-an-ip", ["0.0.0.0/0"], False),
        ("10.0.0.1", None, False),
    ],
)
def test_ip_in_cidrs(addr, cidrs, inside):
    assert ip_in_cidrs(addr, cidrs) is inside
