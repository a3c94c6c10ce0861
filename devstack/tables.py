"""DynamoDB tables exactly as template.yaml declares them, for moto tests and benchmarks."""

from __future__ import annotations

from functools import cache
from typing import Any

from devstack.ministack import ROOT
from devstack.template import load

_KEPT = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")


@cache
def table_definitions() -> dict[str, dict[str, Any]]:
    """Logical id -> the create_table arguments template.yaml gives it (keys, indexes, billing)."""
    template = load(ROOT / "template.yaml")
    return {
        name: {k: v for k, v in resource["Properties"].items() if k in _KEPT}
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def create_tables(client: Any, names: dict[str, str]) -> None:
    """Create each table of ``names`` (logical id -> table name) with its declared definition."""
    for logical_id, table_name in names.items():
        client.create_table(TableName=table_name, **table_definitions()[logical_id])
