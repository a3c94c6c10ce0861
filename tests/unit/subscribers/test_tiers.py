"""Tiers: loaded from tiers.json, checked against their schema and against themselves."""

import json
from importlib import resources

import pytest

from policywatch.subscribers.tiers import TierError, parse, tier, tiers


def test_tiers_load_from_data():
    assert set(tiers()) == {"free", "watcher", "professional"}
    assert tier("free").max_platforms == 1 and not tier("free").same_day
    assert tier("watcher").channels == ("email", "sms")
    assert tier("professional").max_platforms is None
    with pytest.raises(TierError, match="unknown tier 'gold'"):
        tier("gold")


def test_a_tier_whose_webhook_limit_contradicts_its_channels_is_refused():
    folder = resources.files("policywatch.subscribers")
    data, schema = (json.loads(folder.joinpath(name).read_text()) for name in ("tiers.json", "tiers.schema.json"))
    data["watcher"]["max_webhooks"] = 3  # but "webhook" is not among its channels
    with pytest.raises(TierError, match="watcher: max_webhooks must be above 0 exactly when 'webhook' is a channel"):
        parse(data, schema)
