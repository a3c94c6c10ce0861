"""``POST /api/v1/billing/tier``: a billing system sets a subscriber's tier (docs/accounts.md "Billing").

The request is a Standard Webhooks message signed with the stack's billing secret
(``BillingSecret`` in Secrets Manager): ``webhook-id``, ``webhook-timestamp`` (within five
minutes) and ``webhook-signature`` headers, and a JSON body
``{"subscriber_id": "sub_...", "tier": "watcher"}`` (or ``"email"`` in place of the id). The answer is
JSON: the subscriber, the tier before and after, and ``stops``, one sentence per thing the new
tier no longer gives (empty on an upgrade). Setting the tier it has already is a 200 that changes
nothing, so a billing system may retry freely.

Nothing is deleted on a downgrade: the tier's limits apply at fan-out (``subscribers.model.entitlement``),
so an upgrade back restores what the subscriber had chosen, and the manage page says what is beyond
the tier now.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.core import clock
from policywatch.storage.subscribers import ConcurrentUpdateError, Subscribers
from policywatch.subscribers import SubscriberError
from policywatch.subscribers.downgrade import what_stops
from policywatch.subscribers.model import validate_email
from policywatch.subscribers.tiers import TierError, tier
from policywatch.web.pages import PRIVATE, PageResponse

logger = Logger(child=True)

PATH = "/api/v1/billing/tier"
MAX_BODY_BYTES = 4096


def signing_key(secret: str) -> str:
    """The Standard Webhooks key for the billing secret's value: ``whsec_`` and the value's bytes in base64."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def set_tier(subscribers: Subscribers, secret: str, headers: dict[str, str], body: str) -> PageResponse:
    """Check the signature, then set the tier; every refusal is a JSON ``{"error": one line}``."""
    from standardwebhooks import Webhook  # here: only this endpoint verifies
    from standardwebhooks.webhooks import WebhookVerificationError

    if len(body.encode()) > MAX_BODY_BYTES:
        return _json(413, {"error": f"the body is larger than {MAX_BODY_BYTES} bytes"})
    wanted = {name: headers.get(name, "") for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    try:
        request = Webhook(signing_key(secret)).verify(body, wanted)  # the signature, then the body's JSON
        if not isinstance(request, dict):
            raise ValueError("not an object")
    except WebhookVerificationError as exc:
        logger.info("billing request refused", extra={"reason": str(exc)})
        return _json(401, {"error": f"signature not valid: {exc}"})
    except ValueError as exc:  # signed, but not a JSON object
        return _json(400, {"error": f"the body is not a JSON object: {exc}"})
    try:
        new_tier = tier(str(request.get("tier", ""))).id
        for _ in range(3):
            subscriber = _subscriber(subscribers, request)
            previous = subscriber.tier
            if previous == new_tier:
                break
            try:
                subscribers.save(replace(subscriber, tier=new_tier, updated_at=clock.iso()), subscriber)
                break
            except ConcurrentUpdateError:
                continue
        else:
            return _json(409, {"error": "the subscriber kept changing; retry"})
    except (SubscriberError, TierError) as exc:
        return _json(404 if "no subscriber" in str(exc) else 400, {"error": str(exc)})
    stops = what_stops(subscriber, new_tier) if previous != new_tier else []
    logger.info("tier set by billing", extra={"subscriber_id": subscriber.subscriber_id, "tier": new_tier})
    return _json(
        200, {"subscriber_id": subscriber.subscriber_id, "previous_tier": previous, "tier": new_tier, "stops": stops}
    )


def _subscriber(subscribers: Subscribers, request: dict[str, Any]):
    if request.get("subscriber_id"):
        return subscribers.get(str(request["subscriber_id"]))
    if request.get("email"):
        found = subscribers.by_email(validate_email(str(request["email"])))
        if found is None:
            raise SubscriberError("no subscriber with this address")
        return found
    raise SubscriberError("the body names no subscriber: give 'subscriber_id' or 'email'")


def refusal(status: int, error: str) -> PageResponse:
    return _json(status, {"error": error})


def _json(status: int, data: dict[str, Any]) -> PageResponse:
    return PageResponse(status, json.dumps(data, ensure_ascii=False), "application/json", cache=PRIVATE)
