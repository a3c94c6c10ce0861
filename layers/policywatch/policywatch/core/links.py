"""Public links that alerts carry: the change page, archived evidence, one-click unsubscribe.

They all point at the stack's public web function (``WebFunction``, a Lambda function URL;
``PUBLIC_BASE_URL``). Without a base URL, alerts leave the links out rather than print a
broken one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, urlencode

PRO_LINK_DAYS = 30  # how long a Professional link in an alert opens the Professional view


def pro_signature(token: str, subscriber_id: str, expires: int) -> str:
    """The signature of a Professional link: HMAC-SHA256, keyed by the subscriber's own secret
    token (never shown in the link), over the subscriber and the expiry (Unix seconds)."""
    digest = hmac.new(token.encode(), f"pro|{subscriber_id}|{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


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

    def pro(self, path: str, subscriber_id: str, token: str, expires: int) -> str | None:
        """A Professional page (``/pro/...``) for one subscriber, until ``expires`` (Unix seconds)."""
        signature = pro_signature(token, subscriber_id, expires)
        return self._url(path, s=subscriber_id, e=str(expires), sig=signature)

    def unsubscribe(self, subscriber_id: str, token: str) -> str | None:
        """One-click unsubscribe (RFC 8058): GET shows a button, POST unsubscribes."""
        return self._url("unsubscribe", s=subscriber_id, t=token)
