"""The forms' shared rules: CSRF tokens, signed links, cookies, the reader's address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from policywatch.web import forms
from policywatch.web.forms import FormError, FormRequest

KEY = b"k" * 32
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
BASE = "https://policywatch.test"


def request(**overrides) -> FormRequest:
    fields = {"method": "POST", "path": "/signup", "query": {}, "base_url": BASE, "now": NOW} | overrides
    return FormRequest(**fields)


def test_a_form_page_sets_a_cookie_once_and_its_token_checks_out():
    value, header = forms.csrf_cookie(request(cookies={}))
    assert header and header.startswith(f"pw_csrf={value}; Path=/; HttpOnly; SameSite=Lax") and "Secure" in header
    assert forms.csrf_cookie(request(cookies={"pw_csrf": value})) == (value, None)
    token = forms.csrf_token(KEY, value)
    forms.check_csrf(KEY, request(cookies={"pw_csrf": value}, form={"csrf": [token]}, origin=BASE))


@pytest.mark.parametrize(
    ("cookies", "token", "origin", "says"),
    [
        ({}, "x", BASE, "did not send back"),
        ({"pw_csrf": "a" * 32}, "forged", BASE, "form has expired"),
        ({"pw_csrf": "a" * 32}, None, "https://evil.example", "another site"),
        ({"pw_csrf": "a" * 32}, None, "http://policywatch.test", "another site"),  # another scheme is another origin
    ],
)
def test_csrf_refusals_name_what_was_wrong(cookies, token, origin, says):
    token = token or forms.csrf_token(KEY, cookies.get("pw_csrf", ""))
    with pytest.raises(FormError, match=says):
        forms.check_csrf(KEY, request(cookies=cookies, form={"csrf": [token]}, origin=origin))


def test_a_cookie_of_another_shape_is_replaced():
    value, header = forms.csrf_cookie(request(cookies={"pw_csrf": "<script>"}))
    assert value != "<script>" and header


def test_cookies_are_not_secure_on_a_plain_http_local_stack():
    assert "Secure" not in forms.csrf_cookie(request(cookies={}, base_url="http://127.0.0.1:8767"))[1]


def test_a_signed_link_opens_until_it_expires_and_only_for_its_purpose():
    link = forms.new_link(NOW, 600)
    values = dict(part.split("=", 1) for part in link.query(KEY, "confirm").split("&"))
    assert forms.read_link(KEY, "confirm", values, NOW) == link.token
    with pytest.raises(FormError, match="not valid"):
        forms.read_link(KEY, "manage", values, NOW)  # a confirm link opens no manage session
    with pytest.raises(FormError, match="not valid"):
        forms.read_link(b"another key" * 3, "confirm", values, NOW)
    with pytest.raises(FormError, match="expired"):
        forms.read_link(KEY, "confirm", values, NOW + timedelta(seconds=601))
    with pytest.raises(FormError, match="incomplete"):
        forms.read_link(KEY, "confirm", {"t": link.token}, NOW)


@pytest.mark.parametrize(
    ("source", "forwarded", "expected"),
    [
        ("203.0.113.7", "", "203.0.113.7"),
        ("130.176.0.1", "198.51.100.4", "198.51.100.4"),  # CloudFront's address, the viewer's in the header
        ("130.176.0.1", "1.2.3.4, 198.51.100.4", "198.51.100.4"),  # what the client wrote comes first
        ("130.176.0.1", "198.51.100.4, 130.176.0.1", "198.51.100.4"),
    ],
)
def test_the_readers_address(source, forwarded, expected):
    assert forms.client_ip(source, forwarded) == expected


def test_cookies_and_forms_are_read_defensively():
    assert forms.parse_cookies(["a=1", "b=2; c=3", "a=9", "junk"]) == {"a": "1", "b": "2", "c": "3"}
    assert forms.parse_form("email=a%40b.c&x=&x=2") == {"email": ["a@b.c"], "x": ["", "2"]}
    with pytest.raises(FormError, match="larger than 16 KB"):
        forms.parse_form("a=" + "b" * 20_000)
