"""A small browser for the web handler in-process: function URL events in, cookies kept, forms read.

It sends what a browser sends to the function URL through CloudFront: the cookies it holds, a
form body, an Origin, and a source address (per client, so rate limits per address can be tested).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from bs4 import BeautifulSoup

from functions.web import web_handler
from tests.helpers.events import LambdaContext
from tests.helpers.paths import EVENTS

SAMPLE = json.loads((EVENTS / "web.json").read_text())
BASE = "https://policywatch.test"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    cookies: list[str]

    @property
    def soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.body, "html.parser")

    @property
    def text(self) -> str:
        """The page's main text, whitespace folded."""
        main = self.soup.find("main") or self.soup
        return " ".join(main.get_text(" ").split())

    def form(self, action: str) -> dict[str, str]:
        """The hidden fields of the form posting to ``action`` (its CSRF token among them)."""
        form = self.soup.find("form", attrs={"action": lambda value: (value or "").split("#")[0] == action})
        assert form is not None, f"no form posting to {action} in: {self.text[:300]}"
        return {i["name"]: i.get("value", "") for i in form.find_all("input", attrs={"type": "hidden"})}


@dataclass
class WebClient:
    context: LambdaContext = field(default_factory=LambdaContext)
    ip: str = "203.0.113.7"
    cookies: dict[str, str] = field(default_factory=dict)
    origin: str | None = BASE

    def get(self, url: str) -> Answer:
        return self._send("GET", url)

    def post(self, url: str, form: dict[str, Any] | list[tuple[str, str]], **headers: str) -> Answer:
        return self._send("POST", url, urlencode(form, doseq=True), headers)

    def submit(self, page: Answer, action: str, **fields: Any) -> Answer:
        """Post the form of ``page`` that goes to ``action``, its hidden fields and ``fields``."""
        return self.post(action, {**page.form(action), **fields})

    def _send(self, method: str, url: str, body: str = "", headers: dict[str, str] | None = None) -> Answer:
        parts = urlsplit(url)
        event = copy.deepcopy(SAMPLE)
        event["rawPath"] = event["requestContext"]["http"]["path"] = parts.path
        event["requestContext"]["http"]["method"] = method
        event["requestContext"]["http"]["sourceIp"] = self.ip
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        event["queryStringParameters"] = query or None
        event["rawQueryString"] = parts.query
        event["body"] = body
        event["headers"] = {"host": SAMPLE["headers"]["host"], "content-type": "application/x-www-form-urlencoded"}
        if self.origin and method == "POST":
            event["headers"]["origin"] = self.origin
        event["headers"].update({k.replace("_", "-").lower(): v for k, v in (headers or {}).items()})
        if self.cookies:
            event["cookies"] = [f"{k}={v}" for k, v in self.cookies.items()]
        result = web_handler.handler(event, self.context)
        cookies = list(result.get("cookies") or [])
        for cookie in cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if re.search(r"Max-Age=0\b", cookie):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Answer(result["statusCode"], result.get("headers", {}), result.get("body", ""), cookies)

    def follow(self, answer: Answer) -> Answer:
        assert answer.status == 303, f"{answer.status}: {answer.body[:300]}"
        return self.get(answer.headers["Location"])


def link_in(text: str, path: str) -> str:
    """The first link to ``path`` in an e-mail's text."""
    found = re.search(rf"https?://\S+{re.escape(path)}\?\S+", text)
    assert found, f"no {path} link in: {text[:500]}"
    return found.group(0)
