"""DynamoDB tables exactly as template.yaml declares them, for moto tests and benchmarks."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from devstack.ministack import ROOT

_KEPT = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML; intrinsic functions (!Ref, !Sub ...) are not needed here and read as None."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


@cache
def table_definitions() -> dict[str, dict[str, Any]]:
    """Logical id -> the create_table arguments template.yaml gives it (keys, indexes, billing)."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_TemplateLoader)  # noqa: S506 - safe loader
    return {
        name: {k: v for k, v in resource["Properties"].items() if k in _KEPT}
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def create_tables(client: Any, names: dict[str, str]) -> None:
    """Create each table of ``names`` (logical id -> table name) with its declared definition."""
    for logical_id, table_name in names.items():
        client.create_table(TableName=table_name, **table_definitions()[logical_id])
