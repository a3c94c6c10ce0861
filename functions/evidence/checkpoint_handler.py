"""Checkpoint: every hour, sign the heads of every document's hash chain and publish them (policywatch.evidence.checkpoint)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core import clock
from policywatch.core.settings import check_at_cold_start
from policywatch.evidence import checkpoint
from policywatch.evidence.settings import CheckpointSettings
from policywatch.storage.archive import Archive, sha256, stamp
from policywatch.storage.signing import Signer

logger = Logger()
metrics = Metrics()
check_at_cold_start(CheckpointSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = CheckpointSettings.from_env()
    archive, signer = Archive(config.archive_bucket), Signer(config.signing_key_arn)
    at = clock.now().replace(microsecond=0)  # the payload says the second; the keys' stamp the same moment
    heads = checkpoint.read_heads(checkpoint.head_keys(archive.keys(checkpoint.MANIFESTS)), archive.get)
    signed = checkpoint.payload(heads, at)
    published = checkpoint.files(stamp(at), signed, signer.sign(signed), signer.public_key_pem())
    for key, body in published:
        archive.put(key, body, checkpoint.content_type(key), {"sha256": sha256(body)})
    metrics.add_metric(name="CheckpointChains", unit=MetricUnit.Count, value=len(heads))
    logger.info("checkpoint signed", extra={"key": published[0][0], "chains": len(heads)})
    return {"at": clock.iso(at), "chains": len(heads), "checkpoint": published[0][0], "signature": published[1][0]}
