"""Fetch: for each job on the FetchQueue, fetch the document and archive what changed."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.archive import Archive
from policywatch.archivist import archive_document
from policywatch.catalog import Document
from policywatch.config import require, settings
from policywatch.state import DocumentStates

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    config = settings()
    document = Document.from_job(record.body)
    outcome = archive_document(
        document,
        archive=Archive(require(config.archive_bucket, "ARCHIVE_BUCKET")),
        states=DocumentStates(require(config.documents_table, "DOCUMENTS_TABLE")),
        settings=config,
    )
    if outcome.status in ("failed", "needs-browser"):
        metrics.add_metric(name="ExtractionFailures", unit=MetricUnit.Count, value=1)
    elif outcome.status == "new-version":
        metrics.add_metric(name="VersionsArchived", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
