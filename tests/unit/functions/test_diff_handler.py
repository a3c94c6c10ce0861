"""The diff handler reads S3 notifications itself: bucket and key of every record, the key decoded."""

from functions.diff.diff_handler import new_objects


def _record(bucket: str, key: str) -> dict:
    return {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}}}


def test_every_record_gives_its_bucket_and_key_in_order():
    event = {"Records": [_record("a", "versions/x/privacy-policy/1.md"), _record("b", "changes/x/y.json")]}
    assert list(new_objects(event)) == [("a", "versions/x/privacy-policy/1.md"), ("b", "changes/x/y.json")]


def test_keys_arrive_url_encoded_with_spaces_as_plus():
    event = {"Records": [_record("a", "versions/x/terms+of+use/2025-08-29T00%3A32%3A02.000Z.md")]}
    assert list(new_objects(event)) == [("a", "versions/x/terms of use/2025-08-29T00:32:02.000Z.md")]


def test_an_event_without_records_has_no_objects():
    assert list(new_objects({})) == []
