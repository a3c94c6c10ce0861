"""AWS failures as policywatch errors: an adapter's public method never lets botocore's errors through.

Against moto: a ClientError raised inside an adapter method (a generator's too) surfaces as
``StorageError`` with the operation, AWS's code, ``missing``/``forbidden`` and a one-line
``reason()``; the stages above catch ``TransientError`` and never import botocore.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from policywatch.core.errors import TransientError
from policywatch.storage import clients
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.documents import DocumentStates
from policywatch.storage.errors import FORBIDDEN, MISSING, StorageError, adapter, storage_error
from policywatch.storage.subscribers import Subscribers
from tests.helpers.faults import answer_with_error

BUCKET = "policywatch-archive-test"


@pytest.fixture
def bucket(moto) -> Archive:
    clients.client("s3").create_bucket(Bucket=BUCKET)
    return Archive(BUCKET)


# --- through the adapters, against moto -------------------------------------------------------------


def test_getting_a_missing_key_is_a_missing_storage_error(bucket):
    with pytest.raises(StorageError) as failed:
        bucket.get("versions/anthropic/privacy-policy/2025-08-29T003202.000Z.md")
    error = failed.value
    assert (error.operation, error.code) == ("GetObject", "NoSuchKey")
    assert error.missing and not error.forbidden
    assert isinstance(error, TransientError) and isinstance(error.__cause__, ClientError)
    assert str(error) == f"GetObject NoSuchKey: {error.aws_message}" and error.aws_message
    assert error.reason("reading the version") == f"GetObject NoSuchKey while reading the version: {error.aws_message}"


def test_listing_a_bucket_that_does_not_exist_is_neither_missing_nor_forbidden(moto):
    with pytest.raises(StorageError) as failed:
        Archive("policywatch-no-such-bucket").keys("versions/")
    assert (failed.value.operation, failed.value.code) == ("ListObjectsV2", "NoSuchBucket")
    assert not failed.value.missing and not failed.value.forbidden


def test_a_generator_method_raises_a_storage_error_when_it_is_read(moto):
    """``Subscribers.watchers`` pages through a query lazily: the error comes with the first page."""
    pages = Subscribers("no-such-table").watchers("anthropic")  # nothing asked of AWS yet
    with pytest.raises(StorageError) as failed:
        next(pages)
    assert (failed.value.operation, failed.value.code) == ("Query", "ResourceNotFoundException")
    assert failed.value.missing


def test_every_adapter_translates_a_missing_table(moto):
    with pytest.raises(StorageError, match="^GetItem ResourceNotFoundException") as failed:
        DocumentStates("no-such-table").get("anthropic/privacy-policy")
    assert failed.value.missing
    with pytest.raises(StorageError, match="^Query ResourceNotFoundException"):
        list(Deliveries("no-such-table").overdue())


def test_a_forbidden_read_is_a_forbidden_storage_error(bucket):
    answer_with_error("s3", "GetObject", 403, "AccessDenied", "Access Denied")
    with pytest.raises(StorageError) as failed:
        bucket.get("changes/anthropic/privacy-policy/2025-08-29T003202.000Z.json")
    assert failed.value.forbidden and not failed.value.missing
    assert failed.value.reason() == "GetObject AccessDenied: Access Denied"


def test_a_message_that_only_repeats_the_code_is_not_repeated(bucket):
    """S3 answers a HEAD without a body: the code is "403" and so is the message."""
    answer_with_error("s3", "HeadObject", 403, "403")
    with pytest.raises(StorageError) as failed:
        bucket.head("versions/anthropic/privacy-policy/2025-08-29T003202.000Z.md")
    assert failed.value.forbidden
    assert str(failed.value) == "HeadObject 403"
    assert failed.value.reason("checking the version") == "HeadObject 403 while checking the version"


def test_a_miss_the_adapter_expects_is_not_an_error(bucket):
    assert bucket.head("versions/none.md") is None and bucket.get_optional("versions/none.md") is None


# --- the decorator itself -------------------------------------------------------------------------------


def _client_error(code: str, operation: str = "PutItem", message: str = "it failed") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@adapter
class Flaky:
    def __init__(self, code: str) -> None:
        self.code = code

    def write(self) -> None:
        raise _client_error(self.code)

    def pages(self):
        yield "first page"
        raise _client_error(self.code, "Query")

    def offline(self) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")

    def mistake(self) -> None:
        raise KeyError("not AWS's doing")

    def _inside(self) -> None:
        raise _client_error(self.code)


def test_a_public_method_raises_storage_error_in_place_of_client_error():
    with pytest.raises(StorageError) as failed:
        Flaky("ProvisionedThroughputExceededException").write()
    assert (failed.value.operation, failed.value.code, failed.value.aws_message) == (
        "PutItem",
        "ProvisionedThroughputExceededException",
        "it failed",
    )


def test_a_generator_yields_what_it_read_before_the_error():
    pages = Flaky("ThrottlingException").pages()
    assert next(pages) == "first page"
    with pytest.raises(StorageError, match="^Query ThrottlingException: it failed$"):
        next(pages)


def test_a_network_failure_is_a_storage_error_too():
    with pytest.raises(StorageError) as failed:
        Flaky("x").offline()
    assert (failed.value.operation, failed.value.code) == ("EndpointConnectionError", "unavailable")
    assert "dynamodb.us-east-1.amazonaws.com" in failed.value.reason()


def test_other_errors_and_private_methods_are_left_alone():
    with pytest.raises(KeyError):
        Flaky("x").mistake()
    with pytest.raises(ClientError):
        Flaky("x")._inside()  # the public method calling it translates


def test_the_method_keeps_its_name_and_docstring():
    assert Archive.get.__name__ == "get" and Archive.keys.__doc__.startswith("Every key under")


@pytest.mark.parametrize("code", sorted(MISSING))
def test_missing_codes(code):
    error = storage_error(_client_error(code, "GetObject"))
    assert error.missing and not error.forbidden


@pytest.mark.parametrize("code", sorted(FORBIDDEN))
def test_forbidden_codes(code):
    error = storage_error(_client_error(code, "GetObject"))
    assert error.forbidden and not error.missing


def test_a_reason_is_one_line_of_at_most_300_characters():
    error = storage_error(_client_error("ValidationException", "Query", "line one\nline two\t" + "x" * 400))
    reason = error.reason("reading the index")
    assert reason.startswith("Query ValidationException while reading the index: line one line two x")
    assert "\n" not in reason and "\t" not in reason and len(reason) == 300


def test_an_error_without_a_code_still_says_something():
    error = storage_error(ClientError({"Error": {}}, "PutObject"))
    assert (error.code, error.reason()) == ("error", "PutObject error")
