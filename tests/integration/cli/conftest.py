"""What the CLI tests share: moto in place of AWS, and stacks that are only their outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from policywatch.storage import clients as aws

REGION = "us-east-1"


@pytest.fixture
def mocked_aws(monkeypatch) -> Iterator[None]:
    """moto for every AWS call, with test credentials and no endpoint or stack from the environment."""
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("POLICYWATCH_STACK", raising=False)
    with mock_aws():
        aws.reset()
        yield
        aws.reset()


def create_stack(name: str, outputs: dict[str, str]) -> None:
    """A CloudFormation stack with nothing in it but ``outputs``: what the CLI reads a stack by."""
    template = {
        "Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName=name, TemplateBody=json.dumps(template))
