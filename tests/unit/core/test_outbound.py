"""SSRF rules for outbound URLs (webhook receivers): blocked addresses, URL rules, the allowlist, resolution."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from policywatch.core.outbound import (
    AddressError,
    Target,
    blocked_reason,
    check_registration,
    check_url,
    parse_allowlist,
    resolve,
)


def fake_dns(*addresses: str):
    """A getaddrinfo that answers ``addresses`` for any name, recording what it was asked."""
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append((host, port, kwargs.get("type")))
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    getaddrinfo.calls = calls
    return getaddrinfo


# --- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.0.0.1", "private address (RFC 1918)"),
        ("172.16.5.4", "private address (RFC 1918)"),
        ("172.31.255.255", "private address (RFC 1918)"),
        ("192.168.1.1", "private address (RFC 1918)"),
        ("169.254.169.254", "link-local address (169.254.0.0/16; cloud metadata)"),
        ("100.64.0.1", "shared address (CGNAT, 100.64.0.0/10)"),
        ("100.100.100.200", "shared address (CGNAT"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "this network"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("192.0.0.8", "IETF protocol assignment"),
        ("192.88.99.1", "6to4 relay anycast"),
        # IPv6
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "unique local address (fc00::/7)"),
        ("fd00:ec2::254", "unique local"),  # the EC2 instance metadata service over IPv6
        ("fe80::1", "link-local address (fe80::/10)"),
        ("fe80::1%eth0", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("100::1", "discard-only"),
        ("2001:2::1", "benchmarking"),
        ("4000::1", "reserved"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("[::1]", "loopback"),
    ],
)
def test_blocked_addresses_say_why(address, reason):
    assert reason in blocked_reason(address)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::ffff:127.0.0.1", "an IPv4-mapped address of 127.0.0.1, a loopback address"),
        ("::ffff:10.0.0.1", "an IPv4-mapped address of 10.0.0.1, a private address (RFC 1918)"),
        ("::ffff:169.254.169.254", "an IPv4-mapped address of 169.254.169.254, a link-local"),
        ("::127.0.0.1", "an IPv4-compatible address of 127.0.0.1, a loopback address"),
        ("64:ff9b::a00:1", "a NAT64 address of 10.0.0.1, a private address (RFC 1918)"),
        ("64:ff9b::7f00:1", "a NAT64 address of 127.0.0.1, a loopback address"),
        ("2002:a00:1::", "a 6to4 address of 10.0.0.1, a private address (RFC 1918)"),
        ("2002:a9fe:a9fe::1", "a 6to4 address of 169.254.169.254"),
        # Teredo: server 65.54.227.120, client 10.0.0.1 stored inverted (f5ff:fffe)
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a Teredo address of 10.0.0.1, a private address"),
    ],
)
def test_an_ipv4_address_inside_an_ipv6_one_is_judged_as_ipv4(address, reason):
    assert blocked_reason(address).startswith(reason)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8"],
)
def test_public_unicast_addresses_are_allowed(address):
    assert blocked_reason(address) is None


def test_blocked_reason_refuses_what_is_not_an_address():
    with pytest.raises(AddressError, match="not an IP address"):
        blocked_reason("example.com")


# --- check_url ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/policy",
        "https://hooks.example.com:8443/a/b?x=1",
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]/hook",
        "HTTPS://Hooks.Example.COM/",
        "https://hooks.example.com",
    ],
)
def test_good_urls_pass(url):
    assert check_url(url) == url


def test_the_url_is_returned_stripped():
    assert check_url("  https://hooks.example.com/h\n") == "https://hooks.example.com/h"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://x.com/h", "webhook URL 'http://x.com/h' must use https"),
        ("ftp://x.com/h", "must use https"),
        ("file:///etc/passwd", "must use https"),
        ("x.com/h", "must use https"),
        ("https:///h", "must have a host"),
        ("https://:443/h", "must have a host"),
        ("https://user:pass@x.com/h", "must not contain a user name or password"),
        ("https://x.com@127.0.0.1/h", "must not contain a user name or password"),
        ("https://x.com/h#frag", "must not have a fragment"),
        ("https://x.com/" + "a" * 2048, "longer than 2048 characters"),
        ("https://x.com:0/h", "outside 1..65535"),
        ("https://x.com:65536/h", "invalid port"),
        ("https://x.com:http/h", "invalid port"),
        ("https://127.0.0.1/h", "points at 127.0.0.1, a loopback address"),
        ("https://10.1.2.3:8443/h", "points at 10.1.2.3, a private address (RFC 1918)"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://[::1]/h", "points at ::1, a loopback address"),
        ("https://[::ffff:127.0.0.1]/h", "IPv4-mapped address of 127.0.0.1"),
        ("https://[fd00:ec2::254]/h", "unique local"),
        ("https://127.1/h", "write an IPv4 address as a.b.c.d"),
        ("https://2130706433/h", "write an IPv4 address as a.b.c.d"),
        ("https://0x7f.1/h", "write an IPv4 address as a.b.c.d"),
        ("https://x.com./h", "must not end with a dot"),
        ("https://x..com/h", "not a valid host name"),
        ("https://-x.com/h", "not a valid host name"),
        ("https://[v1.fe]/h", "not an IPv6 address"),
        ("https://exämple.com/h", "printable ASCII"),
        ("https://x.com/a b", "printable ASCII"),
        ("https://x.com/a\tb", "printable ASCII"),
        ("https://[::1/h", "not a valid URL"),
        ("", "empty"),
    ],
)
def test_bad_urls_are_refused_naming_the_rule(url, rule):
    with pytest.raises(AddressError) as refused:
        check_url(url)
    assert rule in str(refused.value)


def test_a_query_string_is_not_echoed_in_errors():
    with pytest.raises(AddressError) as refused:
        check_url("http://x.com/h?token=s3cr3t")
    assert "s3cr3t" not in str(refused.value)
    assert "'http://x.com/h?…'" in str(refused.value)


# --- allowlist ---------------------------------------------------------------------------------


def test_allowlist_entries_are_split_and_normalised():
    allowlist = parse_allowlist("127.0.0.1:8080, LocalHost:9000  [::1]:7000,,hooks.test:80")
    assert allowlist == {"127.0.0.1:8080", "localhost:9000", "[::1]:7000", "hooks.test:80"}


@pytest.mark.parametrize("raw", ["", "  ", " , "])
def test_an_empty_allowlist_allows_nothing(raw):
    assert parse_allowlist(raw) == frozenset()


@pytest.mark.parametrize(
    "entry", ["localhost", "localhost:", "localhost:0", "localhost:70000", "http://localhost:80", "a@b:80", "x/y:1"]
)
def test_a_malformed_allowlist_entry_is_named(entry):
    with pytest.raises(AddressError, match="WEBHOOK_HTTP_ALLOWLIST entry"):
        parse_allowlist(f"127.0.0.1:8080,{entry}")


def test_an_allowlisted_host_and_port_may_use_http_and_a_local_address():
    allowlist = parse_allowlist("127.0.0.1:8080,localhost:80,[::1]:7000")
    assert check_url("http://127.0.0.1:8080/hook", allowlist)
    assert check_url("https://127.0.0.1:8080/hook", allowlist)
    assert check_url("http://localhost/hook", allowlist)  # port 80 by default
    assert check_url("http://[::1]:7000/hook", allowlist)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8081/hook", "http://127.0.0.2:8080/hook", "https://127.0.0.1/hook", "http://localhost:8080/h"],
)
def test_the_allowlist_is_exact_on_host_and_port(url):
    with pytest.raises(AddressError):
        check_url(url, parse_allowlist("127.0.0.1:8080"))


# --- resolve -----------------------------------------------------------------------------------


def test_resolve_returns_the_checked_address_to_connect_to():
    dns = fake_dns("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    target = resolve("https://Hooks.Example.com:8443/in?x=1", getaddrinfo=dns)
    assert target == Target(
        url="https://Hooks.Example.com:8443/in?x=1",
        scheme="https",
        host="hooks.example.com",
        port=8443,
        path="/in?x=1",
        address="93.184.215.14",
        allowlisted=False,
    )
    assert dns.calls == [("hooks.example.com", 8443, socket.SOCK_STREAM)]  # resolved once


def test_an_empty_path_is_slash():
    assert resolve("https://hooks.example.com", getaddrinfo=fake_dns("8.8.8.8")).path == "/"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (("10.0.0.5",), "webhook host 'hooks.example.com' resolves to 10.0.0.5, a private address (RFC 1918)"),
        (("8.8.8.8", "127.0.0.1"), "resolves to 127.0.0.1, a loopback address"),  # a mixed answer is an attack
        (("2606:4700:4700::1111", "fd00:ec2::254"), "resolves to fd00:ec2::254, a unique local address"),
        (("::ffff:169.254.169.254",), "IPv4-mapped address of 169.254.169.254"),
    ],
)
def test_every_resolved_address_is_checked(answer, message):
    with pytest.raises(AddressError) as refused:
        resolve("https://hooks.example.com/h", getaddrinfo=fake_dns(*answer))
    assert message in str(refused.value)


def test_a_name_that_does_not_resolve_is_refused():
    def nxdomain(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(AddressError, match="webhook host 'nowhere.test' does not resolve: .*not known"):
        resolve("https://nowhere.test/h", getaddrinfo=nxdomain)
    with pytest.raises(AddressError, match="does not resolve: no addresses"):
        resolve("https://nowhere.test/h", getaddrinfo=fake_dns())


def test_static_rules_apply_before_any_lookup():
    dns = fake_dns("8.8.8.8")
    with pytest.raises(AddressError, match="must use https"):
        resolve("http://hooks.example.com/h", getaddrinfo=dns)
    assert dns.calls == []


def test_an_allowlisted_receiver_is_not_range_checked():
    target = resolve("http://receiver.test:9000/h", parse_allowlist("receiver.test:9000"), fake_dns("127.0.0.1"))
    assert (target.address, target.allowlisted, target.scheme) == ("127.0.0.1", True, "http")


# --- local names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://localhost/h", "webhook URL 'https://localhost/h' points at localhost, a loopback name (localhost)"),
        ("https://a.b.localhost:8443/h", "points at a.b.localhost, a loopback name (localhost)"),
        (
            "https://metadata.google.internal/h",
            "points at metadata.google.internal, a private network name (.internal)",
        ),
        ("https://Printer.Local/h", "points at printer.local, a local network name (.local, multicast DNS)"),
        ("https://router.home.arpa/h", "a home network name (.home.arpa)"),
    ],
)
def test_local_names_are_refused_by_the_static_rules(url, message):
    dns = fake_dns("8.8.8.8")
    with pytest.raises(AddressError) as refused:
        resolve(url, getaddrinfo=dns)
    assert message in str(refused.value)
    assert dns.calls == []
    with pytest.raises(AddressError):
        check_url(url)


def test_a_local_name_may_be_allowlisted():
    assert check_url("http://localhost:8080/h", parse_allowlist("localhost:8080"))
    assert check_url("http://receiver.internal:80/h", parse_allowlist("receiver.internal:80"))


# --- check_registration --------------------------------------------------------------------------


def test_registration_resolves_the_name_and_checks_every_address():
    assert check_registration(" https://hooks.example.com/h ", getaddrinfo=fake_dns("8.8.8.8")) == (
        "https://hooks.example.com/h"
    )
    with pytest.raises(AddressError, match="webhook host 'hooks.example.com' resolves to 10.0.0.5, a private address"):
        check_registration("https://hooks.example.com/h", getaddrinfo=fake_dns("8.8.8.8", "10.0.0.5"))


def test_registration_does_not_look_up_an_allowlisted_receiver():
    dns = fake_dns()  # would answer nothing
    url = "http://receiver:9000/h"
    assert check_registration(url, parse_allowlist("receiver:9000"), dns) == url
    assert dns.calls == []


def test_registration_waits_for_a_silent_name_server_no_longer_than_its_timeout():
    release = threading.Event()

    def silent(*args, **kwargs):
        release.wait(10)
        return []

    started = time.monotonic()
    try:
        with pytest.raises(AddressError, match=r"does not resolve: no answer within 0\.2 s"):
            check_registration("https://hooks.example.com/h", getaddrinfo=silent, timeout=0.2)
    finally:
        release.set()
    assert time.monotonic() - started < 2
