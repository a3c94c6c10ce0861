"""Public links that alerts carry: the change page, archived evidence, one-click unsubscribe.

They all point at the stack's public web function (``WebFunction``, a Lambda function URL;
``PUBLIC_BASE_URL``). Without a base URL, alerts leave the links out rather than print a
broken one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class Links:
    base_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)

    def _url(self, path: str, **query: str) -> str | None:
        if not self.base_url:
            return None
        url = self.base_url.rstrip("/") + "/" + quote(path.lstrip("/"))
        return url + ("?" + urlencode(query) if query else "")

    def change(self, record_key: str) -> str | None:
        """The change page: ``changes/{platform}/{document}/{stamp}.json`` -> ``/changes/...``."""
        return self._url(record_key.removesuffix(".json"))

    def evidence(self, version_key: str) -> str | None:
        """An archived version as it was recorded: ``versions/{platform}/{document}/{stamp}.md``."""
        return self._url(version_key)

    def unsubscribe(self, subscriber_id: str, token: str) -> str | None:
        """One-click unsubscribe (RFC 8058): GET shows a button, POST unsubscribes."""
        return self._url("unsubscribe", s=subscriber_id, t=token)
