"""One request to the site, as the page, feed and API modules see it (built by the web handler).

Each of ``views``, ``feeds`` and ``api`` has ``route(site, request) -> PageResponse | None``:
None means the path is not one of theirs; the handler then tries the next, and answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policywatch.subscribers.model import Subscriber


@dataclass(frozen=True)
class Request:
    method: str  # GET or HEAD (the handler answers HEAD as GET without a body)
    path: str  # "/platforms/anthropic", always starting with "/", never with a query
    query: dict[str, str] = field(default_factory=dict)
    base_url: str = ""  # the site's absolute address, no trailing "/" (feeds and the API need absolute links)
    now: datetime | None = None
    pro: Subscriber | None = None  # a Professional subscriber whose signed link checked out (``/pro/`` paths)
    pro_query: str = ""  # that link's query string ("s=...&e=...&sig=..."), for links between Professional pages

    def url(self, path: str) -> str:
        """``path`` ("/changes/...") as an absolute URL on this site."""
        return self.base_url + path
