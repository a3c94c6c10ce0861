"""End to end: a real policy change travels from a web page to each subscriber as their tier allows."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import boto3
import requests
from standardwebhooks import Webhook
from werkzeug import Request, Response

from bench.coldstart import functions as built_functions
from devstack import demo_site
from devstack.ministack import VENV_BIN
from tests.helpers.waiting import wait_for


def _states(deployed) -> dict[str, dict]:
    table = deployed.client("dynamodb")
    items = table.scan(TableName=deployed.outputs["DocumentsTableName"])["Items"]
    return {i["document_key"]["S"]: i for i in items}


def _settled(deployed) -> bool:
    """Nothing in flight: both queues empty, nothing invisible."""
    sqs = deployed.client("sqs")
    for key in ("FetchQueueUrl", "RenderQueueUrl", "NotifyQueueUrl"):
        attrs = sqs.get_queue_attributes(QueueUrl=deployed.outputs[key], AttributeNames=["All"])["Attributes"]
        if int(attrs["ApproximateNumberOfMessages"]) or int(attrs["ApproximateNumberOfMessagesNotVisible"]):
            return False
    return True


def _subscribe_queue(deployed, name: str, filter_policy: dict | None) -> str:
    """An SQS queue subscribed to the change topic, raw delivery, optionally filtered on the attributes."""
    sqs, sns = deployed.client("sqs"), deployed.client("sns")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = deployed.outputs["ChangeTopicArn"]
    # As in AWS (and MiniStack with IAM enforced), the queue must let the topic send to it.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    attributes = {"RawMessageDelivery": "true"}
    if filter_policy:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def _drain(deployed, url: str) -> list[dict]:
    sqs = deployed.client("sqs")
    messages = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
        messages.extend(json.loads(m["Body"]) for m in batch)
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return messages


def test_a_policy_change_reaches_each_subscriber_as_their_tier_allows(deployed, site, tmp_path, webhook_receiver):
    # The demo site of `make up`: Claude's policy of 2025-08-28, ChatGPT's and Midjourney's;
    # then edition 1: Claude's changes, ChatGPT's does not, Midjourney's page breaks. Claude's
    # page is built by a script, Perplexity's sits behind a JavaScript challenge and xAI's never
    # settles: those three go through headless Chromium (the render function).
    demo_site.publish(0, site.root)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(demo_site.catalog(site.base_url)))
    deployed.cli("catalog", "use", str(catalog))
    secret = "whsec_" + base64.b64encode(b"e2e-webhook-secret-32-bytes-long").decode()
    hook = webhook_receiver.url_for("/hooks/pat")
    people = {
        "ana": ["--tier", "watcher", "--platform", "anthropic", "--phone", "+14155550100"],
        "bob": ["--tier", "watcher", "--platform", "openai", "--phone", "+14155550199"],
        "fay": ["--tier", "free", "--platform", "anthropic"],
        "pat": ["--tier", "professional", "--platform", "anthropic", "--phone", "+14155550101"]
        + ["--webhook", hook, "--webhook-secret", secret],
        # Only dispute-resolution changes: the training change is not for her.
        "pia": ["--tier", "professional", "--platform", "anthropic", "--phone", "+14155550102"]
        + ["--provision", "dispute-resolution"],
    }
    for name, options in people.items():
        deployed.cli("subscribers", "add", "--email", f"{name}@example.com", "--active", *options)
    received: list[dict] = []

    def receive(request: Request) -> Response:
        payload = Webhook(secret).verify(request.get_data(), dict(request.headers))  # as the subscriber would
        received.append({"headers": dict(request.headers), "payload": payload})
        return Response("", status=204)

    webhook_receiver.expect_request("/hooks/pat", method="POST").respond_with_handler(receive)

    # What a compliance team's own integration would subscribe: high-severity training changes.
    training_feed = _subscribe_queue(
        deployed, "e2e-training-high", {"severity": ["high"], "categories": ["model-training"]}
    )
    every_change = _subscribe_queue(deployed, "e2e-every-change", None)

    # Sweep 1: every document archived for the first time; nothing to compare, nothing sent.
    # xAI's page never settles: a recorded failure within its limit, never a version.
    assert "queued 5 documents" in deployed.cli("sweep").stdout
    states = wait_for(
        "the first versions",
        lambda: (
            len(states := _states(deployed)) == 5
            and all("last_version_key" in s for k, s in states.items() if k != "xai/terms-of-service")
            and "last_error" in states["xai/terms-of-service"]
            and states
        ),
    )
    assert all(int(s["consecutive_failures"]["N"]) == 0 for k, s in states.items() if k != "xai/terms-of-service")
    never = states["xai/terms-of-service"]
    assert "the declared selector '.prose' did not appear within 8 s" in never["last_error"]["S"]
    assert "last_version_key" not in never

    # Sweep 2: Claude's policy now says it may train on chats; ChatGPT's is unchanged.
    demo_site.publish(1, site.root)
    deployed.cli("sweep")
    wait_for("the webhook", lambda: received)
    outbox = wait_for(
        "the alert emails and SMS",
        lambda: (box := deployed.outbox()) and len(box["emails"]) == 2 and len(box["sms"]) == 2 and box,
    )
    wait_for("the pipeline to settle", lambda: _settled(deployed))
    outbox = deployed.outbox()

    # Same day: the Watcher by email and SMS, the Professional by email, SMS and a signed webhook;
    # the Free subscriber waits for Monday; the filtered Professional and bob get nothing.
    by_to = {m["To"][0]: m for m in outbox["emails"]}
    assert sorted(by_to) == ["ana@example.com", "pat@example.com"]
    assert sorted(m["PhoneNumber"] for m in outbox["sms"]) == ["+14155550100", "+14155550101"]
    email = by_to["ana@example.com"]
    assert email["Source"] == "alerts@policywatch.test"
    assert email["Subject"].startswith("[policywatch] HIGH Anthropic (Claude) changed its Privacy Policy")
    assert "We [-will not-] {+may+} use your Inputs" in email["BodyText"]
    assert "GDPR" not in email["BodyText"] and "GDPR" in by_to["pat@example.com"]["BodyText"]
    assert outbox["sms"][0]["Message"].startswith("policywatch: HIGH Anthropic (Claude) changed its Privacy Policy")
    assert len(received) == 1 and received[0]["payload"]["type"] == "policy.changed"
    change_id = received[0]["payload"]["data"]["change_id"]
    report = deployed.cli("deliveries", change_id).stdout
    assert report.count(" sent ") >= 5 and "failed" not in report

    # The e-mails' links open on the local stack's site: the change page for everyone, and for
    # the Professional subscriber their own signed link to the Professional view.
    page = re.search(r"The change: +(\S+)", email["BodyText"]).group(1)
    assert page.startswith(deployed.site_url + "/changes/anthropic/privacy-policy/")
    shown = requests.get(page, timeout=30)
    assert shown.status_code == 200 and "Inputs" in shown.text and "policywatch alert" not in shown.text
    pro = re.search(r"compliance checks \(your link, 30 days\): (\S+)", by_to["pat@example.com"]["BodyText"]).group(1)
    assert pro.startswith(deployed.site_url + "/pro/changes/anthropic/privacy-policy/")
    professional = requests.get(pro, timeout=30)
    assert professional.status_code == 200 and "GDPR" in professional.text
    assert professional.headers["Cache-Control"] == "private, no-store"
    assert "pro/" not in email["BodyText"]  # the Watcher's alert has no Professional link
    forged = requests.get(pro.replace("sig=", "sig=x"), timeout=30)
    assert forged.status_code == 403 and "not valid" in forged.text

    # The evidence is in the archive: two versions, and a change record naming them.
    s3 = deployed.client("s3")
    bucket = deployed.outputs["ArchiveBucketName"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert len([k for k in keys if k.startswith("versions/anthropic/")]) == 2
    rendered = sorted(k for k in keys if k.startswith("snapshots/anthropic/"))[-1]
    assert s3.head_object(Bucket=bucket, Key=rendered)["Metadata"]["rendered"] == "chromium"
    assert len([k for k in keys if k.startswith("versions/perplexity/")]) == 1  # its challenge passed
    assert not [k for k in keys if k.startswith(("versions/xai/", "snapshots/xai/"))]
    # ChatGPT's page did not change: fetched, not archived again (one snapshot, one version).
    assert len([k for k in keys if k.startswith("versions/openai/")]) == 1
    assert len([k for k in keys if k.startswith("snapshots/openai/")]) == 1
    # Midjourney's page broke: its snapshot is kept for `reextract`, no empty version, and
    # the failure is on record and in `policywatch status`.
    assert len([k for k in keys if k.startswith("versions/midjourney/")]) == 1
    assert len([k for k in keys if k.startswith("snapshots/midjourney/")]) == 2
    broken = _states(deployed)["midjourney/privacy-policy"]
    assert broken["consecutive_failures"]["N"] == "1" and "selector-matched-nothing" in broken["last_error"]["S"]
    status = deployed.cli("status").stdout
    assert "5 documents, 2 failing" in status
    assert any(line.startswith("midjourney/privacy-policy") and "FAILING x1" in line for line in status.splitlines())
    changes = [k for k in keys if k.startswith("changes/")]
    assert len(changes) == 1 and changes[0].startswith("changes/anthropic/privacy-policy/")
    record = json.loads(s3.get_object(Bucket=bucket, Key=changes[0])["Body"].read())
    assert record["alert"] is True and record["evidence"]["current"]["source_url"] == site.url(
        "anthropic/legal/privacy.html"
    )
    assert record["kind"] == "substantive" and record["severity"] == "high" and record["direction"] == "worse"
    assert {"model-training", "training-opt-out", "human-review"} <= set(record["categories"])
    assert record["effective_date"] == "2025-09-28"
    # Published once, with the attributes subscription filter policies match on.
    published = _drain(deployed, every_change)
    assert [(e["change_id"], e["severity"]) for e in published] == [(record["change_id"], "high")]
    assert [e["change_id"] for e in _drain(deployed, training_feed)] == [record["change_id"]]
    assert published[0]["summary"] == record["summary"] and published[0]["record_key"] == changes[0]

    # Sweep 3: ChatGPT's links move to another locale. Archived and recorded as cosmetic;
    # published to no one, and nobody is alerted.
    demo_site.publish(2, site.root)
    deployed.cli("sweep")
    wait_for(
        "the cosmetic change record",
        lambda: any(
            k.startswith("changes/openai/")
            for k in (o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="changes/").get("Contents", []))
        ),
    )
    wait_for("the third sweep", lambda: _settled(deployed))
    cosmetic_key = next(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="changes/openai/").get("Contents", [])
    )
    cosmetic = json.loads(s3.get_object(Bucket=bucket, Key=cosmetic_key)["Body"].read())
    assert cosmetic["kind"] == "cosmetic" and cosmetic["alert"] is False and cosmetic["severity"] == "none"
    assert set(cosmetic["noise"]) == {"link"} and cosmetic["counts"]["modified"] == 0
    assert _drain(deployed, every_change) == []
    assert len(deployed.outbox()["emails"]) == 2  # bob, who watches openai, got nothing

    # Sweep 4 with nothing changed sends nothing more.
    deployed.cli("sweep")
    wait_for("the fourth sweep", lambda: _settled(deployed))
    assert len(deployed.outbox()["emails"]) == 2
    assert _drain(deployed, every_change) == []

    # Monday: the Free subscriber's digest, once, with the week's one substantive change.
    next_monday = (date.today() + timedelta(days=7 - date.today().weekday())).isoformat() + "T08:00:00Z"
    planned = _invoke(deployed, "DigestFunctionName", {"time": next_monday})  # the schedule
    assert planned["changes"] == 1 and "anthropic" in planned["platforms"]
    again = deployed.cli("digest", "--at", next_monday).stdout  # fired twice; the operator's view of it
    assert f"digest of week {planned['week']}: 1 change(s)" in again
    assert re.search(r"fan-out complete at \S+: \d+ pages?; \d+ subscribers read, [1-9]\d* sent", again), again
    digests = [m for m in deployed.outbox()["emails"] if m["To"] == ["fay@example.com"]]
    assert len(digests) == 1 and "Week of" in digests[0]["Subject"]
    assert "Anthropic (Claude)" in digests[0]["BodyText"]

    # One click in the List-Unsubscribe link, and ana is gone (the link opens the local stack's
    # site: CloudFront on MiniStack, then the web function).
    link = re.search(r"https?://\S+/unsubscribe\?s=\S+&t=[\w-]+", email["BodyText"]).group(0)
    assert link.startswith(deployed.site_url)
    response = requests.post(link, data="List-Unsubscribe=One-Click", timeout=30)
    assert response.status_code == 200 and "unsubscribed" in response.text
    assert (
        '"status": "unsubscribed"'
        in deployed.cli("subscribers", "show", link.split("s=")[1].split("&")[0], "--json").stdout
    )


def _invoke(deployed, output: str, payload: dict) -> dict:
    response = deployed.client("lambda").invoke(FunctionName=deployed.outputs[output], Payload=json.dumps(payload))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def test_operator_errors_are_one_clear_line(deployed):
    bad_email = deployed.cli(
        "subscribers", "add", "--email", "not-an-email", "--tier", "watcher", "--platform", "anthropic", check=False
    )
    assert bad_email.returncode == 1
    assert bad_email.stderr == "policywatch: error: invalid email address 'not-an-email'\n"
    unknown = deployed.cli(
        "subscribers", "add", "--email", "a@example.com", "--tier", "free", "--platform", "nope", check=False
    )
    assert unknown.returncode == 1 and unknown.stderr.startswith("policywatch: error: unknown platform 'nope'")
    missing = subprocess.run(
        [str(VENV_BIN / "policywatch"), "--stack", "absent", "status"], env=deployed.env, capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("policywatch: error: no stack named 'absent' is deployed at")
    assert "Traceback" not in bad_email.stderr + unknown.stderr + missing.stderr


def test_handlers_import_from_the_build_with_only_what_the_lambda_runtime_provides(deployed, tmp_path):
    """MiniStack runs Lambdas on its own interpreter, where the dev venv hides missing dependencies;
    each function with only its own layers and its template variables (its settings checked).
    """
    runtime = tmp_path / "runtime"  # what the python3.12 Lambda runtime ships: boto3 and its dependencies
    runtime.mkdir()
    site_packages = Path(boto3.__file__).parent.parent
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"):
        source = site_packages / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, runtime / name)
    for function in built_functions(deployed.build_dir):  # each with its own layers, as Lambda loads it
        paths = [str(function.code), *(str(layer / "python") for layer in function.layers), str(runtime)]
        module = function.module
        code = f"import sys; sys.path[:0] = {paths!r}; import {module}; assert callable({module}.handler)"
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code],
            capture_output=True,
            text=True,
            # The template's variables (placeholders for what only CloudFormation knows) and the name
            # Lambda sets: each handler checks its settings at import, as in a cold start.
            env={**function.env, "AWS_LAMBDA_FUNCTION_NAME": function.name, "AWS_DEFAULT_REGION": "us-east-1"},
        )
        assert result.returncode == 0, f"{function.name}: {result.stderr.strip()[-500:]}"


def test_the_deployed_roles_can_do_what_the_recovery_paths_need(deployed, site, tmp_path):
    """MiniStack enforces template.yaml's IAM here (AUTH): a missing grant fails as it would in AWS."""
    # A platform of its own, so the first test's subscribers and states are not involved.
    page = "rebuild/privacy.html"
    (site.root / "rebuild").mkdir(parents=True)
    shutil.copy(demo_site.CORPUS / "claude-ai/privacy-policy/2025-08-28.html", site.root / page)

    def use(declaration: dict) -> None:
        document = {"type": "Privacy Policy", "pages": [{"url": site.url(page), **declaration}]}
        platform = {"id": "rebuild-co", "name": "Rebuild Co", "operator": "Rebuild Co", "documents": [document]}
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps({"platforms": [platform]}))
        deployed.cli("catalog", "use", str(catalog))

    s3, bucket = deployed.client("s3"), deployed.outputs["ArchiveBucketName"]

    def keys(prefix: str) -> list[str]:
        return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))

    use({"select": ["main"]})
    deployed.cli("sweep")
    wait_for("the first version", lambda: len(keys("versions/rebuild-co/")) == 1)

    # The page changes and, the same day, the operator fixes the declaration: the fetch function
    # first rebuilds yesterday's version from its own snapshot (ListBucket + GetObject on
    # snapshots/), so the diff shows what the site changed, not what we changed.
    shutil.copy(demo_site.CORPUS / "claude-ai/privacy-policy/2025-08-29.html", site.root / page)
    use({"select": ["main"], "remove": ["main h1"]})  # the heading goes: yesterday's text changes too
    deployed.cli("sweep")
    wait_for("the rebuilt and the new version", lambda: len(keys("versions/rebuild-co/")) == 3)
    wait_for("the pipeline to settle", lambda: _settled(deployed))
    state = _states(deployed)["rebuild-co/privacy-policy"]
    assert state["consecutive_failures"]["N"] == "0" and "last_error" not in state, state

    # A diff that failed every attempt is kept in the diff DLQ as its S3 event; the operator
    # runs it again. The change record it writes is the one already there (same id).
    newest = keys("versions/rebuild-co/")[-1]
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": bucket}, "object": {"key": newest}}}]}  # fmt: skip
    sqs = deployed.client("sqs")
    sqs.send_message(QueueUrl=deployed.outputs["DiffDeadLetterQueueUrl"], MessageBody=json.dumps(event))
    assert "redriven 1 failed diff(s); 0 still failing" in deployed.cli("redrive", "diff").stdout
    attributes = sqs.get_queue_attributes(
        QueueUrl=deployed.outputs["DiffDeadLetterQueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"

    # The public pages: a change that does not exist is a 404 (the role may list the bucket),
    # and what is not a change or a version is never served.
    base = deployed.site_url
    missing = requests.get(f"{base}/changes/rebuild-co/privacy-policy/2001-01-01T000000.000Z", timeout=30)
    assert missing.status_code == 404
    version = requests.get(f"{base}/{newest}", timeout=30)
    assert version.status_code == 200 and version.headers["X-Content-SHA256"]

    # The modules after this one subscribe people to the catalog's platforms: the packaged catalog again.
    deployed.cli("catalog", "reset")
