"""Where the fetcher may connect: ``fetchnet.check_hop``, with an injected resolver (no DNS, no network)."""

from __future__ import annotations

import socket

import pytest

from policywatch.core.outbound import parse_allowlist
from policywatch.fetch.network import Hop, Refused, Unresolved, allowlist_key, check_hop


def _resolver(answers: list[str]):
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
        return [(family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in answers]

    getaddrinfo.calls = calls
    return getaddrinfo


def _refused(url: str, answers=("93.184.215.14",), allowlist: str = "", redirected_from=None) -> str:
    with pytest.raises(Refused) as caught:
        check_hop(url, parse_allowlist(allowlist), redirected_from=redirected_from, getaddrinfo=_resolver(answers))
    return caught.value.reason


def test_a_public_https_url_is_one_checked_hop():
    resolver = _resolver(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    hop = check_hop("https://www.Example.com/legal/privacy?lang=en", getaddrinfo=resolver)
    assert hop == Hop(
        "https://www.example.com/legal/privacy?lang=en",
        "https",
        "www.example.com",
        443,
        ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
        False,
    )
    assert hop.host_header == "www.example.com" and resolver.calls == ["www.example.com"]


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (["127.0.0.1"], "address 127.0.0.1 is a loopback address; refused"),
        (["10.0.0.8"], "address 10.0.0.8 is a private address (RFC 1918); refused"),
        (["169.254.169.254"], "address 169.254.169.254 is a link-local address (169.254.0.0/16; cloud metadata)"),
        (["100.64.1.1"], "address 100.64.1.1 is a shared address (CGNAT, 100.64.0.0/10); refused"),
        (["fd00::1"], "address fd00::1 is a unique local address (fc00::/7); refused"),
        (["::ffff:127.0.0.1"], "address ::ffff:127.0.0.1 is an IPv4-mapped address of 127.0.0.1, a loopback"),
        (["93.184.215.14", "192.168.1.1"], "address 192.168.1.1 is a private address (RFC 1918); refused"),
    ],
)
def test_a_name_resolving_to_any_non_public_address_is_refused(answers, reason):
    refused = _refused("https://policy.example/p", answers)
    assert refused.startswith(f"host 'policy.example' resolves to {answers[-1]}: {reason}")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/p", "address 127.0.0.1 is a loopback address; refused"),
        ("https://[::1]:8443/p", "address ::1 is a loopback address; refused"),
        ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is a link-local address"),
        ("http://policy.example/p", "plain http to policy.example:80 refused"),
        ("ftp://policy.example/p", "not an http(s) URL with a host"),
        ("https:///p", "not a valid URL"),
        ("https://policy.example:99999/p", "not a valid URL"),
    ],
)
def test_urls_are_refused_before_any_lookup(url, reason):
    resolver = _resolver(["93.184.215.14"])
    with pytest.raises(Refused) as caught:
        check_hop(url, getaddrinfo=resolver)
    assert caught.value.reason.startswith(reason) and resolver.calls == []


def test_numeric_host_forms_are_judged_by_what_they_resolve_to():
    """'2130706433' and '0x7f.1' are 127.0.0.1 to the system resolver (inet_aton)."""
    for host in ("2130706433", "0x7f.1", "127.1"):
        with pytest.raises(Refused, match="resolves to 127.0.0.1: address 127.0.0.1 is a loopback address"):
            check_hop(f"https://{host}/p")  # the real resolver: numeric forms need no DNS


def test_https_to_http_is_refused_even_for_an_allowlisted_host():
    reason = _refused("http://demo.test:8766/p", ["127.0.0.1"], "demo.test:8766", redirected_from="https://x.test/")
    assert reason == "redirect from https to plain http refused"


def test_the_allowlist_admits_http_and_private_addresses_for_its_host_and_port_only():
    allowlist = parse_allowlist("127.0.0.1:8766, demo.test:8080 [::1]:9000")
    hop = check_hop("http://127.0.0.1:8766/p", allowlist, getaddrinfo=_resolver(["127.0.0.1"]))
    assert hop.allowlisted and hop.addresses == ("127.0.0.1",) and hop.host_header == "127.0.0.1:8766"
    assert check_hop("http://DEMO.test:8080/", allowlist, getaddrinfo=_resolver(["10.0.0.1"])).allowlisted
    assert check_hop("http://[::1]:9000/", allowlist, getaddrinfo=_resolver(["::1"])).host_header == "[::1]:9000"
    assert _refused("http://127.0.0.1:8767/p", ["127.0.0.1"], "127.0.0.1:8766").startswith("address 127.0.0.1 is")
    assert _refused("https://demo.test/p", ["10.0.0.1"], "demo.test:8080").startswith("host 'demo.test' resolves")


def test_a_name_that_does_not_resolve_is_unresolved_not_refused():
    def fails(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(Unresolved, match="host name 'policy.example' did not resolve"):
        check_hop("https://policy.example/p", getaddrinfo=fails)
    with pytest.raises(Unresolved):
        check_hop("https://policy.example/p", getaddrinfo=_resolver([]))


def test_allowlist_keys_are_written_as_parse_allowlist_writes_them():
    assert allowlist_key("::1", 8080) == "[::1]:8080" and allowlist_key("demo.test", 80) == "demo.test:80"
    assert parse_allowlist("[::1]:8080 demo.test:80") == {allowlist_key("::1", 8080), allowlist_key("demo.test", 80)}
