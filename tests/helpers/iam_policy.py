"""template.yaml's IAM grants applied to every AWS call a handler makes in the tests.

Neither moto nor an unauthenticated MiniStack enforces IAM, so a grant missing from the
template would pass every test and fail in AWS (the fetch function once could not read its
own snapshots). This module closes that gap for the in-process tests:

- while a handler runs (``X_handler.handler``), every botocore call is mapped to the IAM
  action and resource ARN AWS would authorise (``s3:GetObject`` on ``arn:aws:s3:::b/k``,
  ``dynamodb:Query`` on ``.../table/T/index/I``, ``sqs:SendMessage`` on the queue ...);
- the function's policy statements are read from template.yaml, with ``!Ref``/``!GetAtt``/
  ``!Sub`` resolved to the concrete names the test gave through the function's own
  environment variables (a resource the function is not told about matches nothing);
- a call no statement allows, or one a statement denies, is answered ``AccessDenied`` as AWS
  would, and recorded so the test fails even where the code swallows the error.

The e2e suite covers the deployed stack the same way with MiniStack's own IAM enforcement
(``AUTH=true``). Only the condition keys policywatch's template uses are evaluated
(``s3:prefix``, ``ses:FromAddress`` and ``iam:PassedToService``, with StringLike/StringEquals and
their IfExists forms);
any other is refused loudly.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.utils import parseaddr
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from devstack.ministack import ROOT
from devstack.template import Intrinsic
from devstack.template import load as load_template

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"


@dataclass(frozen=True)
class Call:
    """One AWS request as IAM sees it."""

    action: str  # "s3:GetObject"
    resources: tuple[str, ...]  # every ARN the action is authorised against (all must pass)
    context: dict[str, str] = field(default_factory=dict)  # condition keys ("s3:prefix")
    any_of: bool = False  # SES: allowed when either identity (address or domain) is


@cache
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@cache
def handler_functions() -> dict[str, str]:
    """Handler module ("functions.fetch.fetch_handler") -> the function's logical id ("FetchFunction")."""
    return {
        _module(resource["Properties"]): name
        for name, resource in template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def _module(function: dict[str, Any]) -> str:
    """The handler's module as the tests import it: its CodeUri folder is a package of the project."""
    folder = function["CodeUri"].strip("/").replace("/", ".")
    return f"{folder}.{function['Handler'].rsplit('.', 1)[0]}"


# ---------------------------------------------------------------------------- the template's side


class Resolver:
    """Intrinsic functions resolved against the concrete resources one function was given."""

    def __init__(self, function: str, environ: dict[str, str]) -> None:
        self.resources = template()["Resources"]
        self.bound: dict[str, str] = {}  # logical id or parameter -> concrete value (its !Ref)
        variables = {
            **template()["Globals"]["Function"]["Environment"]["Variables"],
            **self.resources[function]["Properties"].get("Environment", {}).get("Variables", {}),
        }
        for variable, value in variables.items():
            if isinstance(value, Intrinsic) and value.name in ("Ref", "GetAtt") and variable in environ:
                self.bound[value.value] = environ[variable]  # "Queue", or "Secret.Id" for a !GetAtt
        self.pseudo = {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": "policywatch",
        }

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        return self.bound.get(name, f"unbound:{name}")  # a resource the function was not given

    def get_att(self, name: str, attribute: str) -> str:
        if f"{name}.{attribute}" in self.bound:  # told to the function as it is
            return self.bound[f"{name}.{attribute}"]
        value = self.ref(name)
        if value.startswith("unbound:") or attribute != "Arn":
            return f"unbound:{name}.{attribute}"
        kind = self.resources[name]["Type"]
        if kind == "AWS::SQS::Queue":
            return queue_arn(value)
        if kind == "AWS::DynamoDB::Table":
            return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{value}"
        if kind == "AWS::S3::Bucket":
            return f"arn:{PARTITION}:s3:::{value}"
        raise NotImplementedError(f"!GetAtt {name}.Arn of a {kind}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if not isinstance(value, Intrinsic):
            return value
        if value.name == "Ref":
            return self.ref(value.value)
        if value.name == "GetAtt":
            name, _, attribute = value.value.partition(".")
            return self.get_att(name, attribute)
        if value.name == "Sub":
            text, extra = (value.value, {}) if isinstance(value.value, str) else value.value
            extra = {k: self.resolve(v) for k, v in extra.items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in extra:
                    return extra[name]
                if "." in name and not name.startswith("AWS::"):
                    return self.get_att(*name.split(".", 1))
                return self.ref(name)

            return re.sub(r"\$\{([^}]+)\}", substitute, text)
        if value.name == "Select":
            index, items = value.value
            return self.resolve(items)[int(index)]
        if value.name == "Split":
            separator, text = value.value
            return self.resolve(text).split(separator)
        raise NotImplementedError(f"!{value.name} in a policy statement")


def statements(function: str, environ: dict[str, str]) -> list[dict[str, Any]]:
    """The function's policy statements, resolved for the resources it was given."""
    resolver = Resolver(function, environ)
    found = []
    for policy in template()["Resources"][function]["Properties"].get("Policies", []):
        if not isinstance(policy, dict) or "Statement" not in policy:
            raise NotImplementedError(f"{function}: only inline Statement policies are evaluated, not {policy!r}")
        found.extend(resolver.resolve(statement) for statement in policy["Statement"])
    return found


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(statement["Action"])):
        return False
    if not any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"])):
        return False
    for operator, tests in statement.get("Condition", {}).items():
        for key, expected in tests.items():
            if key not in _CONDITION_KEYS or operator.removesuffix("IfExists") not in ("StringLike", "StringEquals"):
                raise NotImplementedError(f"condition {operator} on {key} is not evaluated here")
            if key not in context:
                if operator.endswith("IfExists"):
                    continue
                return False
            compare = fnmatch.fnmatchcase if operator.startswith("StringLike") else str.__eq__
            if not any(compare(context[key], pattern) for pattern in _listed(expected)):
                return False
    return True


_CONDITION_KEYS = ("s3:prefix", "ses:FromAddress", "iam:PassedToService")


def denial(function: str, environ: dict[str, str], call: Call) -> str | None:
    """Why IAM would refuse ``call`` from ``function`` (None when every resource is allowed)."""
    granted = statements(function, environ)

    def allowed(resource: str) -> bool:
        relevant = [s for s in granted if _matches(s, call.action, resource, call.context)]
        return any(s["Effect"] == "Allow" for s in relevant) and not any(s["Effect"] == "Deny" for s in relevant)

    verdicts = [allowed(r) for r in call.resources]
    if (any(verdicts) if call.any_of else all(verdicts)) and verdicts:
        return None
    refused = [r for r, ok in zip(call.resources, verdicts, strict=True) if not ok]
    where = f" with {call.context}" if call.context else ""
    return f"{function} is not allowed {call.action} on {', '.join(refused)}{where}"


# ---------------------------------------------------------------------------- the call's side


def queue_arn(url_or_name: str) -> str:
    parts = urlsplit(url_or_name)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1] if parts.scheme else url_or_name
    return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}"


def _table(name: str, index: str | None = None) -> str:
    arn = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


_S3_OBJECT_ACTIONS = {"GetObject": "GetObject", "HeadObject": "GetObject", "PutObject": "PutObject"}
_S3_OBJECT_ACTIONS |= {"DeleteObject": "DeleteObject"}
_DYNAMODB_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
_DYNAMODB_ITEM_ACTIONS |= {"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_SQS_BATCHES = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}
_SQS_BATCHES |= {"ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def calls(service: str, operation: str, params: dict[str, Any]) -> Iterator[Call]:
    """The IAM authorisations one botocore operation needs."""
    if service == "s3":
        bucket = f"arn:{PARTITION}:s3:::{params.get('Bucket', '')}"
        if operation in _S3_OBJECT_ACTIONS:
            yield Call(f"s3:{_S3_OBJECT_ACTIONS[operation]}", (f"{bucket}/{params['Key']}",))
        elif operation in ("ListObjectsV2", "ListObjects", "ListObjectVersions"):
            yield Call("s3:ListBucket", (bucket,), {"s3:prefix": params.get("Prefix", "")})
        else:
            raise NotImplementedError(f"s3 {operation}: add its IAM mapping to tests/iam_policy.py")
    elif service == "dynamodb":
        yield from _dynamodb_calls(operation, params)
    elif service == "sqs":
        queue = queue_arn(params.get("QueueUrl") or params.get("QueueName", ""))
        yield Call(f"sqs:{_SQS_BATCHES.get(operation, operation)}", (queue,))
    elif service == "sns" and operation == "Publish":
        target = params.get("TopicArn") or params.get("TargetArn")
        yield Call("sns:Publish", (target or "*",))
    elif service == "ses" and operation in ("SendRawEmail", "SendEmail"):
        sender = params.get("Source") or _raw_sender(params)
        domain = sender.rpartition("@")[2]
        identity = f"arn:{PARTITION}:ses:{REGION}:{ACCOUNT}:identity/"
        # AWS authorises a send against the sender's identity ARN (address or domain) and sets
        # ses:FromAddress; a grant may be scoped by either.
        yield Call(f"ses:{operation}", (identity + sender, identity + domain), {"ses:FromAddress": sender}, any_of=True)
    elif service == "ssm" and operation == "GetParameter":
        yield Call("ssm:GetParameter", (f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT}:parameter{params['Name']}",))
    elif service == "secretsmanager" and operation == "GetSecretValue":
        yield Call("secretsmanager:GetSecretValue", (params["SecretId"],))
    elif service == "cloudwatch" and operation == "PutMetricData":
        yield Call("cloudwatch:PutMetricData", ("*",))
    elif service == "kms" and operation in ("Sign", "GetPublicKey"):
        yield Call(f"kms:{operation}", (_kms_key(params["KeyId"]),))
    elif service == "scheduler":
        yield from _scheduler_calls(operation, params)
    else:
        raise NotImplementedError(f"{service} {operation}: add its IAM mapping to tests/iam_policy.py")


def _dynamodb_calls(operation: str, params: dict[str, Any]) -> Iterator[Call]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        for item in params["TransactItems"]:
            (kind, request), *_ = item.items()
            yield Call(f"dynamodb:{_DYNAMODB_ITEM_ACTIONS[kind]}", (_table(request["TableName"]),))
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        for table, requests in params["RequestItems"].items():
            if operation == "BatchGetItem":
                yield Call("dynamodb:GetItem", (_table(table),))
            for request in requests if operation == "BatchWriteItem" else ():
                yield Call("dynamodb:" + ("PutItem" if "PutRequest" in request else "DeleteItem"), (_table(table),))
    else:
        yield Call(f"dynamodb:{operation}", (_table(params["TableName"], params.get("IndexName")),))


def _scheduler_calls(operation: str, params: dict[str, Any]) -> Iterator[Call]:
    """EventBridge Scheduler: a schedule's ARN names its group; creating one passes its target's role."""
    if operation == "ListSchedules":
        yield Call("scheduler:ListSchedules", ("*",))  # no resource-level permission
        return
    if operation not in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule"):
        raise NotImplementedError(f"scheduler {operation}: add its IAM mapping to tests/iam_policy.py")
    group = params.get("GroupName") or "default"
    yield Call(
        f"scheduler:{operation}", (f"arn:{PARTITION}:scheduler:{REGION}:{ACCOUNT}:schedule/{group}/{params['Name']}",)
    )
    if operation in ("CreateSchedule", "UpdateSchedule"):
        role = params["Target"]["RoleArn"]
        yield Call("iam:PassRole", (role,), {"iam:PassedToService": "scheduler.amazonaws.com"})


def _kms_key(key_id: str) -> str:
    """The key ARN IAM authorises a KMS call against (an alias's ARN when called by alias: no key grant matches it)."""
    if key_id.startswith("arn:"):
        return key_id
    return f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:" + (key_id if key_id.startswith("alias/") else f"key/{key_id}")


def _raw_sender(params: dict[str, Any]) -> str:
    data = params.get("RawMessage", {}).get("Data", b"")
    message = message_from_bytes(data if isinstance(data, bytes) else data.encode())
    return parseaddr(message.get("From", ""))[1]


# ---------------------------------------------------------------------------- recording


@dataclass
class Audit:
    """Which function is running, and every call its policy would refuse."""

    active: list[str] = field(default_factory=list)  # logical ids, innermost last
    denied: list[str] = field(default_factory=list)
    checked: int = 0

    def refusal(self, service: str, operation: str, params: dict[str, Any]) -> str | None:
        """Why the running function may not make this call (None outside handlers, or when allowed)."""
        if not self.active:
            return None  # the test's own set-up and assertions
        for call in calls(service, operation, params):
            self.checked += 1
            why = denial(self.active[-1], dict(os.environ), call)
            if why:
                self.denied.append(why)
                return why
        return None

    def missing(self, service: str, operation: str, params: dict[str, Any], code: str) -> None:
        """S3 answers a missing key with 404 only to a caller allowed to list the bucket; to
        anyone else it is a 403, and code that expects a 404 breaks in AWS."""
        if not self.active or service != "s3" or operation not in ("GetObject", "HeadObject"):
            return
        if code in ("NoSuchKey", "404", "NotFound"):
            call = Call("s3:ListBucket", (f"arn:{PARTITION}:s3:::{params['Bucket']}",))
            why = denial(self.active[-1], dict(os.environ), call)
            if why:
                self.denied.append(f"{why}: S3 would answer 403, not 404, for the missing {params['Key']}")
