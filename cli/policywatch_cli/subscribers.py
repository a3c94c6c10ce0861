"""`policywatch subscribers add|update|tier|list|show|remove|confirm|unsubscribe`: who is alerted, and how.

Emails and phone numbers are personal data: listings mask them, and only ``show``, asked for one
subscriber by id, prints them in clear. Webhook secrets are printed once, when an endpoint is made,
and unsubscribe tokens only inside the unsubscribe link printed by ``add``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import phonenumbers

from policywatch.analysis.provisions import taxonomy
from policywatch.core import clock
from policywatch.core.links import Links
from policywatch.core.outbound import AddressError, parse_allowlist
from policywatch.fetch.sweep import current_catalog
from policywatch.subscribers import Endpoint, Subscriber, SubscriberError, new_endpoint, new_subscriber, updated
from policywatch.subscribers.downgrade import beyond_limits, what_stops
from policywatch.subscribers.model import SEVERITIES, STATUSES
from policywatch.subscribers.tiers import TierError, tier, tiers
from policywatch_cli.stack import Commands, Out, Stack, tally

WEBHOOK_HELP = (
    "an https URL that signed change events are POSTed to (repeat for more); plain http only for a "
    "host:port in the stack's WebhookHttpAllowlist parameter"
)


def register(commands: Commands) -> None:
    def runs(command: Callable[[Stack, argparse.Namespace, Out], None]) -> Callable[[argparse.Namespace, Out], None]:
        return lambda args, out: command(Stack(args.stack), args, out)

    subs = commands.add_parser("subscribers", help="who is alerted").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = subs.add_parser("add", help="add a subscriber (pending until confirmed, unless --active)")
    add.add_argument("--email", required=True)
    add.add_argument("--tier", required=True, choices=sorted(tiers()))
    add.add_argument("--platform", required=True, action="append", help="a platform id to watch (repeat for more)")
    add.add_argument("--phone", help="phone number for SMS alerts, international form, e.g. +14155550123")
    add.add_argument("--webhook", action="append", default=[], help=WEBHOOK_HELP)
    add.add_argument("--webhook-secret", help="the whsec_... secret to sign with (only with one --webhook)")
    add.add_argument("--provision", action="append", default=[], help="alert only on this provision id (repeat)")
    add.add_argument("--digest", action="store_true", help="the weekly digest on top of same-day alerts")
    add.add_argument("--sms-min-severity", choices=SEVERITIES, help="lowest severity sent by SMS (default medium)")
    add.add_argument("--active", action="store_true", help="skip confirmation: consent was confirmed elsewhere")
    add.set_defaults(run=runs(cmd_add))

    update = subs.add_parser("update", help="change a subscriber (every rule and tier limit checked again)")
    update.add_argument("id", metavar="SUBSCRIBER_ID")
    update.add_argument("--email")
    update.add_argument("--tier", choices=sorted(tiers()))
    update.add_argument("--platform", action="append", help="the platforms watched (repeat; replaces the list)")
    update.add_argument("--add-platform", action="append", default=[], metavar="PLATFORM", help="watch one more")
    update.add_argument("--remove-platform", action="append", default=[], metavar="PLATFORM", help="stop watching")
    phone = update.add_mutually_exclusive_group()
    phone.add_argument("--phone", help="a new number for SMS alerts, international form")
    phone.add_argument("--no-phone", action="store_true", help="stop SMS alerts")
    update.add_argument("--add-webhook", action="append", default=[], metavar="URL", help=WEBHOOK_HELP)
    update.add_argument(
        "--remove-webhook", action="append", default=[], metavar="ENDPOINT_ID", help="an endpoint id (wh_...)"
    )
    provisions = update.add_mutually_exclusive_group()
    provisions.add_argument("--provision", action="append", help="provision ids to alert on (repeat; replaces)")
    provisions.add_argument("--no-provisions", action="store_true", help="alert on every change again")
    update.add_argument("--digest", action=argparse.BooleanOptionalAction, help="the weekly digest too, or not")
    update.add_argument("--sms-min-severity", choices=SEVERITIES)
    update.set_defaults(run=runs(cmd_update))

    change_tier = subs.add_parser(
        "tier",
        help="move a subscriber to another tier, saying what stops on a downgrade (the rest is kept)",
        description="Change a subscriber's tier and nothing else. A downgrade prints what stops. Platforms, phone "
        "number, webhooks and provision filter beyond the new tier's limits are kept, unused: alerts follow the "
        "tier from the next change, and an upgrade gives them back (a later `update` must trim them first).",
    )
    change_tier.add_argument("id", metavar="SUBSCRIBER_ID")
    change_tier.add_argument("tier", metavar="TIER", choices=sorted(tiers()), help=", ".join(sorted(tiers())))
    change_tier.set_defaults(run=runs(cmd_tier))

    reindex = subs.add_parser(
        "reindex",
        help="give subscribers stored before sign-up existed their address's owner item (an address subscribes once)",
    )
    reindex.set_defaults(run=runs(cmd_reindex))

    listing = subs.add_parser("list", help="list subscribers (emails and phones masked)")
    listing.add_argument("--tier", choices=sorted(tiers()))
    listing.add_argument("--platform")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=runs(cmd_list))

    show = subs.add_parser("show", help="one subscriber in full (no secrets)")
    show.add_argument("id", metavar="SUBSCRIBER_ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=runs(cmd_show))

    for action, helptext, command in (
        ("remove", "delete a subscriber (their delivery history stays until it expires)", cmd_remove),
        ("confirm", "activate a pending subscriber", cmd_confirm),
        ("unsubscribe", "stop every alert to a subscriber", cmd_unsubscribe),
    ):
        parser = subs.add_parser(action, help=helptext)
        parser.add_argument("id", metavar="SUBSCRIBER_ID")
        parser.set_defaults(run=runs(command))


# ---------------------------------------------------------------- commands


def cmd_add(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    if args.webhook_secret and len(args.webhook) != 1:
        raise SubscriberError("--webhook-secret goes with exactly one --webhook")
    allowlist = _allowlist(stack)
    endpoints = [new_endpoint(url, args.webhook_secret, allowlist) for url in args.webhook]
    subscriber = new_subscriber(
        email=args.email,
        tier_id=args.tier,
        platforms=args.platform,
        known_platforms=_platforms(stack),
        known_provisions=taxonomy().categories,
        phone=args.phone,
        webhooks=endpoints,
        provisions=args.provision,
        digest=args.digest,
        **({"sms_min_severity": args.sms_min_severity} if args.sms_min_severity else {}),
    )
    if args.active:
        subscriber = replace(subscriber, status="active")
    stack.subscribers().add(subscriber)
    state = "active" if args.active else "pending: nothing but the confirmation is sent until its owner confirms"
    out(f"added {subscriber.subscriber_id} ({state})")
    if not args.active:
        out(_confirmation(stack, subscriber))
    out(f"  tier       {subscriber.tier}")
    out(f"  platforms  {', '.join(subscriber.platforms)}")
    _print_new_endpoints(endpoints, out)
    links = Links(stack.outputs.get("PublicBaseUrl", ""))  # an older stack may not have the output
    if links.enabled:
        out(f"  unsubscribe link  {links.unsubscribe(subscriber.subscriber_id, subscriber.unsubscribe_token)}")


def cmd_update(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    store = stack.subscribers()
    previous = store.get(args.id)
    changes = _changes(args, previous)
    added: list[Endpoint] = []
    if args.add_webhook or args.remove_webhook:
        changes["webhooks"], added = _webhooks(stack, args, previous)
    try:
        subscriber = updated(previous, _platforms(stack), taxonomy().categories, **changes)
    except TierError as exc:
        if args.tier is None or args.tier == previous.tier:
            raise
        raise TierError(
            f"{exc} (`policywatch subscribers tier {previous.subscriber_id} {args.tier}` changes the tier "
            "and keeps the rest for an upgrade)"
        ) from None
    differences = _differences(previous, subscriber)
    if not differences and not added:
        out(f"{previous.subscriber_id}: nothing to change")
        return
    store.save(subscriber, previous)
    out(f"updated {subscriber.subscriber_id}")
    for line in differences:
        out(f"  {line}")
    _print_new_endpoints(added, out)
    if subscriber.tier != previous.tier:
        _print_stops(what_stops(previous, subscriber.tier), out)


def cmd_tier(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    """The tier changes and nothing else: what lies beyond the new tier's limits is kept, and fan-out
    applies the limits (``subscribers.downgrade`` says why), so a downgrade is always writable."""
    store = stack.subscribers()
    previous = store.get(args.id)
    plan = tier(args.tier)
    if previous.tier == plan.id:
        out(f"{previous.subscriber_id} is already on the {plan.label} tier")
        return
    stops = what_stops(previous, plan.id)
    subscriber = store.save(replace(previous, tier=plan.id, updated_at=clock.iso()), previous)
    out(f"{subscriber.subscriber_id}: tier {previous.tier} -> {subscriber.tier}")
    _print_stops(stops, out)
    kept = beyond_limits(subscriber, plan.id)
    if kept:
        out(f"Kept for an upgrade, beyond the {plan.label} tier's limits: {', '.join(kept)}.")
        out(
            "  Alerts already follow the tier; a later `subscribers update` must also bring these within it "
            "(--platform, --no-phone, --remove-webhook, --no-provisions)."
        )


def _changes(args: argparse.Namespace, previous: Subscriber) -> dict[str, Any]:
    """What ``update`` was asked to change but the webhooks, as ``updated`` takes it."""
    changes: dict[str, Any] = {}
    for name in ("email", "tier", "sms_min_severity", "digest"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.platform or args.add_platform or args.remove_platform:
        platforms = list(args.platform or previous.platforms) + args.add_platform
        for platform in args.remove_platform:
            if platform not in platforms:
                raise SubscriberError(f"{previous.subscriber_id} does not watch {platform!r}")
            platforms.remove(platform)
        changes["platforms"] = platforms
    if args.phone or args.no_phone:
        changes["phone"] = None if args.no_phone else args.phone
    if args.provision or args.no_provisions:
        changes["provisions"] = [] if args.no_provisions else args.provision
    return changes


def _webhooks(stack: Stack, args: argparse.Namespace, previous: Subscriber) -> tuple[list[Endpoint], list[Endpoint]]:
    """The subscriber's endpoints once ``--add-webhook`` and ``--remove-webhook`` apply, and the added ones."""
    unknown = set(args.remove_webhook) - {e.endpoint_id for e in previous.webhooks}
    if unknown:
        raise SubscriberError(f"{previous.subscriber_id} has no webhook {sorted(unknown)[0]!r}")
    added = [new_endpoint(url, allowlist=_allowlist(stack)) for url in args.add_webhook]
    kept = [e for e in previous.webhooks if e.endpoint_id not in args.remove_webhook]
    return kept + added, added


def cmd_reindex(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    written, duplicates = stack.subscribers().claim_addresses()
    out(f"{written} address{'es' * (written != 1)} claimed by their subscriber")
    for subscriber_id, owner in duplicates:
        out(f"  {subscriber_id} has the same address as {owner}: remove one (`subscribers remove`)")


def cmd_list(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    found = [
        s
        for s in stack.subscribers().list()
        if (args.tier is None or s.tier == args.tier)
        and (args.platform is None or args.platform in s.platforms)
        and (args.status is None or s.status == args.status)
    ]
    if args.json:
        masked = [{**s.public(), "email": mask_email(s.email), "phone": mask_phone(s.phone)} for s in found]
        out(json.dumps([{k: v for k, v in m.items() if v is not None} for m in masked], indent=2))
        return
    filtered = args.tier or args.platform or args.status
    if not found:
        out("no subscribers match" if filtered else "no subscribers")
        return
    out(f"{'SUBSCRIBER':<20} {'TIER':<12} {'STATUS':<12} {'EMAIL':<28} {'PHONE':<15} {'WEBHOOKS':<8}  PLATFORMS")
    for s in found:
        out(
            f"{s.subscriber_id:<20} {s.tier:<12} {s.status:<12} {mask_email(s.email):<28} "
            f"{mask_phone(s.phone) or '-':<15} {len(s.webhooks):<8}  {', '.join(s.platforms)}"
        )
    out(f"{len(found)} subscriber{'s' if len(found) != 1 else ''} ({tally((s.status for s in found), STATUSES)})")


def cmd_show(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    s = stack.subscribers().get(args.id)
    if args.json:
        out(json.dumps(s.public(), indent=2))
        return
    labels = taxonomy().categories
    provisions = [f"{p} ({labels[p].label})" if p in labels else p for p in s.provisions]
    rows = [
        ("subscriber", s.subscriber_id),
        ("status", s.status),
        ("tier", s.tier),
        ("email", s.email),
        ("phone", f"{s.phone} (SMS at severity {s.sms_min_severity} and above)" if s.phone else "-"),
        ("platforms", ", ".join(s.platforms)),
        ("provisions", "; ".join(provisions) or "every change"),
        ("digest", "yes" if s.digest else "no"),
        ("webhooks", "-" if not s.webhooks else f"{len(s.webhooks)}"),
        *((f"  {e.endpoint_id}", e.url) for e in s.webhooks),
        ("created", s.created_at),
        ("updated", f"{s.updated_at} (version {s.version})"),
    ]
    for name, value in rows:
        out(f"{name:<18} {value}")


def cmd_remove(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    from policywatch.storage.deliveries import Deliveries

    store = stack.subscribers()
    subscriber = store.get(args.id)
    deliveries = Deliveries(stack.output("DeliveriesTableName"))
    # As "Delete my data" does: delivery records keep no address, phone or URL (docs/accounts.md).
    forgotten = deliveries.forget(subscriber.subscriber_id)
    store.remove(subscriber)
    forgotten = max(forgotten, deliveries.forget(subscriber.subscriber_id))  # one in flight may have written since
    out(
        f"removed {subscriber.subscriber_id}; their delivery records ({forgotten}) keep no address, "
        "phone or URL, and expire with their TTL"
    )


def cmd_confirm(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    store = stack.subscribers()
    previous = store.get(args.id)
    if previous.status == "unsubscribed":
        raise SubscriberError(
            f"{previous.subscriber_id} unsubscribed: confirming cannot bring them back; they must subscribe again"
        )
    if previous.status == "active":
        out(f"{previous.subscriber_id} is already active")
        return
    store.set_status(previous, "active")
    out(f"confirmed {previous.subscriber_id}: active, alerts start with the next change")


def cmd_unsubscribe(stack: Stack, args: argparse.Namespace, out: Out) -> None:
    store = stack.subscribers()
    previous = store.get(args.id)
    if previous.status == "unsubscribed":
        out(f"{previous.subscriber_id} is already unsubscribed")
        return
    store.set_status(previous, "unsubscribed")
    out(f"unsubscribed {previous.subscriber_id}: nothing more is sent to them")


# ---------------------------------------------------------------- helpers


def mask_email(email: str) -> str:
    """``jane@example.com`` -> ``j***@example.com``: enough to recognise, not to write to."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str | None:
    """``+14155550123`` -> ``+1******0123``: the country code and the last four digits."""
    if not phone:
        return None
    try:
        prefix = f"+{phonenumbers.parse(phone, None).country_code}"
    except phonenumbers.NumberParseException:
        prefix = phone[:2]
    return prefix + "*" * max(len(phone) - len(prefix) - 4, 0) + phone[-4:]


def _confirmation(stack: Stack, subscriber: Subscriber) -> str:
    """Send the subscriber the confirmation e-mail the sign-up form sends; the line that says so."""
    from policywatch.storage.accounts import Accounts
    from policywatch.storage.outbound import Mailer
    from policywatch.storage.secrets import SecretStore
    from policywatch.web.accounts import send_confirmation

    needed = ("AccountsTableName", "SiteSecretArn", "SenderEmail", "PublicBaseUrl")
    if any(key not in stack.outputs for key in needed):  # a stack from before self-service
        return "  no confirmation e-mail: this stack predates sign-up (deploy it again), or use `subscribers confirm`"
    platform = subscriber.platforms[0]
    catalog = current_catalog(stack.archive())
    name = next((p.name for p in catalog.platforms if p.id == platform), platform)
    send_confirmation(
        Accounts(stack.output("AccountsTableName")),
        Mailer(),
        stack.output("SenderEmail"),
        SecretStore().get(stack.output("SiteSecretArn")).encode(),
        stack.output("PublicBaseUrl"),
        subscriber,
        platform,
        name,
        clock.now(),
    )
    return f"  confirmation e-mail sent to {mask_email(subscriber.email)} (its link works once, for 24 hours)"


def _platforms(stack: Stack) -> list[str]:
    return current_catalog(stack.archive()).platform_ids()


def _allowlist(stack: Stack) -> frozenset[str]:
    """The http receivers the stack trusts (its WebhookHttpAllowlist output), as its functions read them."""
    try:
        raw = stack.outputs.get("WebhookHttpAllowlist", "")
        return parse_allowlist("" if raw == "-" else raw)  # "-": none (an output cannot be empty)
    except AddressError as exc:
        raise SubscriberError(str(exc)) from None


def _print_new_endpoints(endpoints: list[Endpoint], out: Out) -> None:
    for e in endpoints:
        out(f"  webhook    {e.endpoint_id}  {e.url}")
        out(f"    secret   {e.secret}  (shown this once only: give it to the receiver now)")


def _print_stops(stops: list[str], out: Out) -> None:
    if stops:
        out("What stops:")
        for line in stops:
            out(f"  {line}")


def _differences(before: Subscriber, after: Subscriber) -> list[str]:
    """What changed, one line each (but added webhooks); emails and phones masked."""
    lines = []
    shown: dict[str, Callable[[Subscriber], str]] = {
        "email": lambda s: mask_email(s.email),
        "phone": lambda s: mask_phone(s.phone) or "-",
        "tier": lambda s: s.tier,
        "platforms": lambda s: ", ".join(s.platforms),
        "provisions": lambda s: ", ".join(s.provisions) or "every change",
        "digest": lambda s: "yes" if s.digest else "no",
        "sms_min_severity": lambda s: s.sms_min_severity,
    }
    for name, show in shown.items():
        if getattr(before, name) != getattr(after, name):
            lines.append(f"{name}: {show(before)} -> {show(after)}")
    kept = {e.endpoint_id for e in after.webhooks}
    lines += [f"webhook removed: {e.endpoint_id} {e.url}" for e in before.webhooks if e.endpoint_id not in kept]
    return lines  # added webhooks are printed with their secret
