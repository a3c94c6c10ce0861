"""One delivery on one channel: render what the subscriber's tier shows, and send it.

Shared by the fan-out (first attempts) and the delivery queue (retries). Rendering is done
once per change and tier, not once per subscriber: only the unsubscribe link differs.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from policywatch.core import clock, outbound
from policywatch.core.links import PRO_LINK_DAYS, Links
from policywatch.messages.render import Email, alert_email, alert_sms, pro_path
from policywatch.notify.channels import email, sms, webhook
from policywatch.notify.jobs import DeliveryError
from policywatch.notify.pacing import pacing
from policywatch.notify.settings import ChannelSettings
from policywatch.storage.deliveries import DeliveryKey
from policywatch.storage.outbound import Mailer, SmsSender
from policywatch.subscribers import Subscriber
from policywatch.subscribers.tiers import Tier


@dataclass(frozen=True)
class DeliveryOptions:
    """How subscribers are reached: the sender address, public links, the webhook policy, the senders."""

    sender: str
    links: Links = field(default_factory=Links)
    webhook_allowlist: frozenset[str] = frozenset()
    webhook_connect_timeout: float = 3.0
    webhook_read_timeout: float = 10.0
    webhook_deadline: float = 10.0  # the whole attempt: resolve, connect, send, read the answer
    mailer: Mailer = field(default_factory=Mailer)
    texts: SmsSender = field(default_factory=SmsSender)

    @classmethod
    def from_settings(cls, config: ChannelSettings, deadline: float | None = None) -> DeliveryOptions:
        """Options for one invocation: its sends paced to the account's rates, none started after ``deadline``."""
        email_pacing, sms_pacing = pacing(config, deadline)
        return cls(
            sender=config.sender_email,
            links=Links(config.public_base_url),
            webhook_allowlist=outbound.parse_allowlist(config.webhook_http_allowlist),
            webhook_connect_timeout=config.webhook_connect_timeout,
            webhook_read_timeout=config.webhook_read_timeout,
            webhook_deadline=config.webhook_deadline,
            mailer=Mailer(email_pacing),
            texts=SmsSender(sms_pacing),
        )


class Renderings:
    """What one change looks like on each channel, rendered on first use and shared by all recipients."""

    def __init__(self, change: dict[str, Any], links: Links) -> None:
        self.change = change
        self.links = links
        self._lock = threading.Lock()
        self._emails: dict[str, Email] = {}
        self._sms: str | None = None
        self._webhook: bytes | None = None

    def email(self, plan: Tier) -> Email:
        with self._lock:
            if plan.id not in self._emails:
                self._emails[plan.id] = alert_email(self.change, plan, self.links)
            return self._emails[plan.id]

    def sms(self) -> str:
        with self._lock:
            if self._sms is None:
                self._sms = alert_sms(self.change, self.links)
            return self._sms

    def webhook_body(self) -> bytes:
        with self._lock:
            if self._webhook is None:
                self._webhook = webhook.payload(self.change)
            return self._webhook


def webhook_message_id(key: DeliveryKey) -> str:
    """The ``webhook-id`` of a delivery: the same on every retry, so receivers can drop duplicates."""
    digest = hashlib.sha256(f"{key.change_id}\x00{key.subscriber_id}\x00{key.channel}".encode()).hexdigest()
    return "msg_" + digest[:32]


def _pro_link(change: dict[str, Any], subscriber: Subscriber, plan: Tier, options: DeliveryOptions) -> str | None:
    """A Professional subscriber's own signed link to the change's Professional view, for ``PRO_LINK_DAYS``."""
    path = pro_path(change)
    if not plan.regulatory_mapping or path is None or not subscriber.unsubscribe_token:
        return None
    expires = int(clock.now().timestamp()) + PRO_LINK_DAYS * 86400
    return options.links.pro(path, subscriber.subscriber_id, subscriber.unsubscribe_token, expires)


def pace(channel: str, options: DeliveryOptions) -> None:
    """Wait for ``channel``'s send slot before its delivery is claimed (webhooks are not paced)."""
    if channel == "email":
        options.mailer.pacing.wait()
    elif channel == "sms":
        options.texts.pacing.wait()


def send(
    key: DeliveryKey, subscriber: Subscriber, plan: Tier, renderings: Renderings, options: DeliveryOptions
) -> tuple[str, str]:
    """Send one delivery; returns (message id, detail). Raises DeliveryError (or the client's error)."""
    if key.channel == "email":
        unsubscribe = options.links.unsubscribe(subscriber.subscriber_id, subscriber.unsubscribe_token)
        message = renderings.email(plan).for_recipient(
            unsubscribe, _pro_link(renderings.change, subscriber, plan, options)
        )
        return email.send_email(
            options.mailer, options.sender, subscriber.email, message, unsubscribe
        ), "accepted by SES"
    if key.channel == "sms":
        if not subscriber.phone:
            raise DeliveryError("no phone number on file")
        return sms.send_sms(options.texts, subscriber.phone, renderings.sms()), "accepted by SNS"
    if key.channel.startswith("webhook:"):
        endpoint_id = key.channel.removeprefix("webhook:")
        endpoint = next((e for e in subscriber.webhooks if e.endpoint_id == endpoint_id), None)
        if endpoint is None:
            raise DeliveryError(f"webhook endpoint {endpoint_id} was removed")
        message_id = webhook_message_id(key)
        try:
            status = webhook.send(
                endpoint.url,
                endpoint.signing_secrets(clock.now()),  # both secrets while a rotation's overlap lasts
                message_id,
                renderings.webhook_body(),
                allowlist=options.webhook_allowlist,
                connect_timeout=options.webhook_connect_timeout,
                read_timeout=options.webhook_read_timeout,
                deadline=options.webhook_deadline,
            )
        except webhook.WebhookError as exc:
            raise DeliveryError(exc.reason) from None
        return message_id, f"answered {status}"
    raise DeliveryError(f"unknown channel {key.channel!r}")
