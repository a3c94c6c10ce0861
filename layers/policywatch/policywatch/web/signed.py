"""Professional pages open through per-subscriber signed links that expire (``core.links.pro``).

A link carries the subscriber (``s``), its expiry in Unix seconds (``e``) and an HMAC-SHA256 of
both keyed by the subscriber's secret token (``sig``). It opens every ``/pro/`` page until it
expires, for as long as the subscriber is active on a tier with regulatory mapping: a
downgrade, an unsubscribe or a new token ends it at once. Nothing else is needed to check one:
no session, no cookie, one read of the subscriber.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from urllib.parse import urlencode

from policywatch.core.links import pro_signature
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import SubscriberError
from policywatch.subscribers.model import Subscriber
from policywatch.subscribers.tiers import tier

NOT_VALID = "This Professional link is not valid; open the link in your latest policywatch alert."
EXPIRED = "This Professional link has expired; open the link in your latest policywatch alert."
NOT_PROFESSIONAL = "The Professional view is for Professional subscribers; this subscription is not one now."


def check(subscribers: Subscribers, path: str, query: dict[str, str], now: datetime) -> Subscriber | str:
    """The subscriber a ``/pro/`` link was made for, or the one line saying why it opens nothing."""
    subscriber_id, expires, signature = query.get("s", ""), query.get("e", ""), query.get("sig", "")
    if not (
        0 < len(subscriber_id) <= 64 and expires.isdigit() and len(expires) <= 12 and signature and len(signature) <= 64
    ):
        return NOT_VALID
    if int(expires) < now.timestamp():
        return EXPIRED
    try:
        subscriber = subscribers.get(subscriber_id)
    except SubscriberError:
        return NOT_VALID
    if not subscriber.unsubscribe_token:
        return NOT_VALID
    expected = pro_signature(subscriber.unsubscribe_token, subscriber_id, int(expires))
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return NOT_VALID
    if subscriber.status != "active" or not tier(subscriber.tier).regulatory_mapping:
        return NOT_PROFESSIONAL
    return subscriber


def query_of(query: dict[str, str]) -> str:
    """The link's own query string, to carry from one Professional page to the next."""
    return urlencode([(key, query[key]) for key in ("s", "e", "sig") if key in query])
