"""Subscription tiers, loaded from ``tiers.json`` (data, not code) and schema-checked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from policywatch.core.errors import InputError


class TierError(InputError):
    """Unknown tier, or a request beyond what a tier allows."""


@dataclass(frozen=True)
class Tier:
    id: str
    label: str
    max_platforms: int | None
    max_webhooks: int  # endpoints per subscriber: each is one more delivery, and one more receiver that can be slow
    cadence: str
    channels: tuple[str, ...]
    provision_filters: bool
    regulatory_mapping: bool
    governance_exports: bool
    evidence_in_alerts: bool
    digest_opt_in: bool
    effective_date_reminders: bool  # e-mails 7 days and 1 day before a change takes effect

    @property
    def same_day(self) -> bool:
        return self.cadence == "same-day"


@cache
def tiers() -> dict[str, Tier]:
    data_dir = resources.files(__package__)
    data = json.loads(data_dir.joinpath("tiers.json").read_text())
    return parse(data, json.loads(data_dir.joinpath("tiers.schema.json").read_text()))


def parse(data: dict, schema: dict) -> dict[str, Tier]:
    """Tiers from their data, checked against ``schema`` and for what a schema cannot say; TierError naming the fault."""
    import jsonschema  # here: the data is checked once, when first loaded

    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise TierError(f"tiers.json: {where}: {exc.message}") from None
    for tier_id, spec in data.items():
        # A webhook limit without the channel (or the channel with no endpoint allowed) is a typo.
        if ("webhook" in spec["channels"]) != (spec["max_webhooks"] > 0):
            raise TierError(f"tiers.json: {tier_id}: max_webhooks must be above 0 exactly when 'webhook' is a channel")
    return {
        tier_id: Tier(id=tier_id, **{**spec, "channels": tuple(spec["channels"])}) for tier_id, spec in data.items()
    }


def tier(tier_id: str) -> Tier:
    try:
        return tiers()[tier_id]
    except KeyError:
        raise TierError(f"unknown tier {tier_id!r} (tiers: {', '.join(tiers())})") from None
