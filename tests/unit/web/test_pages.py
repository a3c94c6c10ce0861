"""The public pages without AWS: every answer a page, the paths served, and each unsubscribe outcome;
what the change page makes of a passage whose links changed.

The archive, the site and the subscribers table are stand-ins here; the web function against
moto is tests/integration/web/test_web.py, the site's pages on real histories test_pages.py there.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from policywatch.storage.errors import StorageError
from policywatch.storage.subscribers import ConcurrentUpdateError
from policywatch.subscribers import SubscriberError
from policywatch.web import pages, views
from policywatch.web.render import link_changes
from policywatch.web.request import Request

STAMP = "2025-08-29T003202.000Z"
VERSION = f"versions/anthropic/privacy-policy/{STAMP}.md"
HTML = "text/html; charset=utf-8"


class Archive:
    """The archive bucket as the pages read it: ``objects`` by key, or ``error`` for every read."""

    def __init__(self, objects: dict[str, bytes] | None = None, error: StorageError | None = None) -> None:
        self.objects, self.error, self.reads = objects or {}, error, []

    def get(self, key: str) -> bytes:
        self.reads.append(key)
        if self.error:
            raise self.error
        if key not in self.objects:
            raise StorageError("GetObject", "NoSuchKey", "The specified key does not exist.")
        return self.objects[key]

    def head(self, key: str) -> dict:
        self.reads.append(key)
        if self.error:
            raise self.error
        if key not in self.objects:
            raise StorageError("HeadObject", "404", "404")
        return {"Metadata": {"sha256": "ab" * 32}}


class Subscribers:
    """The subscribers table as the unsubscribe page uses it; ``conflicts`` writes lose to another writer."""

    def __init__(self, status: str = "active", conflicts: int = 0, other_writer_unsubscribes: bool = True) -> None:
        self.status, self.conflicts, self.other_writer_unsubscribes = status, conflicts, other_writer_unsubscribes
        self.writes = 0

    def by_token(self, subscriber_id: str, token: str):
        if (subscriber_id, token) != ("sub_1", "tok_1"):
            raise SubscriberError("this link is not valid (it may be mistyped or the subscription removed)")
        return SimpleNamespace(subscriber_id=subscriber_id, status=self.status)

    def set_status(self, previous, status: str):
        self.writes += 1
        if self.conflicts:
            self.conflicts -= 1
            if self.other_writer_unsubscribes:
                self.status = "unsubscribed"  # the same click, twice: the other request won
            raise ConcurrentUpdateError("the subscriber changed since it was read")
        self.status = status
        return SimpleNamespace(subscriber_id=previous.subscriber_id, status=status)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(pages.time, "sleep", waits.append)
    return waits


# --- plain pages ---------------------------------------------------------------------------------------


def test_not_found_is_a_404_page_naming_what_was_asked_for():
    page = pages.not_found("version")
    assert (page.status, page.content_type, page.headers) == (404, HTML, ())
    assert "<title>Not found · policywatch</title>" in page.body and "There is no such version." in page.body


def test_method_not_allowed_is_a_405_page_with_the_allow_header():
    page = pages.method_not_allowed("GET, POST")
    assert (page.status, page.headers) == (405, (("Allow", "GET, POST"),))
    assert "This page answers GET, POST only." in page.body


def test_server_error_is_a_500_page_without_details():
    page = pages.server_error()
    assert (page.status, page.content_type) == (500, HTML)
    assert "Something went wrong" in page.body and "please try again later" in page.body
    assert "Traceback" not in page.body and "Exception" not in page.body


def test_a_page_escapes_what_it_shows():
    page = pages.message(400, "<b>Title</b>", '<script>alert("x")</script>', form_action='/u?s=1&t="2"')
    assert "<script>" not in page.body and "&lt;script&gt;" in page.body and "&lt;b&gt;Title&lt;/b&gt;" in page.body
    assert 'action="/u?s=1&amp;t=&#34;2&#34;"' in page.body


# --- which keys are served ------------------------------------------------------------------------------


class Site:
    """The site as the views read it: every read is recorded, and finds nothing."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def __getattr__(self, name: str):
        def read(*args, **kwargs):
            self.reads.append(name)
            return None

        return read


@pytest.mark.parametrize(
    "path",
    [
        "/changes/anthropic/privacy-policy",
        f"/changes/anthropic/privacy-policy/{STAMP}.json",  # the record itself: the API's, not a page
        f"/changes/../snapshots/privacy-policy/{STAMP}",
        f"/changes/Anthropic/privacy-policy/{STAMP}",
        f"/snapshots/anthropic/privacy-policy/{STAMP}",
        f"/changes/anthropic/privacy-policy/{STAMP}/x",
        "/platforms/anthropic/",
        "/documents/anthropic",
        "/static/../pages.py",
    ],
)
def test_a_path_of_another_shape_is_no_page_and_reads_nothing(path):
    site = Site()
    assert views.route(site, Request("GET", path)) is None  # type: ignore[arg-type]
    assert site.reads == []


def test_a_change_the_archive_does_not_have_is_a_404_page():
    page = views.route(Site(), Request("GET", f"/changes/anthropic/privacy-policy/{STAMP}"))  # type: ignore[arg-type]
    assert page is not None and page.status == 404 and "There is no such change." in page.body


@pytest.mark.parametrize(
    "path",
    [
        f"versions/anthropic/privacy-policy/{STAMP}",
        f"versions/anthropic/privacy-policy/{STAMP}.html",
        f"snapshots/anthropic/privacy-policy/{STAMP}.md",
        f"versions/anthropic/privacy-policy/../../config/{STAMP}.md",
        "versions/a/b/2025-08-29T003202Z.md",
    ],
)
def test_a_version_path_of_another_shape_is_not_found_without_reading_the_archive(path):
    archive = Archive({path: b"text"})
    assert pages.version_file(archive, path).status == 404  # type: ignore[arg-type]
    assert archive.reads == []


def test_an_archived_version_is_served_as_recorded_with_its_hash():
    archive = Archive({VERSION: "# Privacy Policy\n\nWe keep little – très peu.\n".encode()})
    page = pages.version_file(archive, VERSION)  # type: ignore[arg-type]
    assert (page.status, page.content_type) == (200, "text/markdown; charset=utf-8")
    assert page.body == "# Privacy Policy\n\nWe keep little – très peu.\n"
    assert page.headers == (("X-Content-SHA256", "ab" * 32),)


@pytest.mark.parametrize(
    "error",
    [
        StorageError("GetObject", "NoSuchKey", "The specified key does not exist."),
        StorageError("GetObject", "AccessDenied", "Access Denied"),  # S3's answer without s3:ListBucket
    ],
)
def test_a_missing_or_forbidden_key_is_not_found(error):
    assert pages.version_file(Archive(error=error), VERSION).status == 404  # type: ignore[arg-type]


def test_any_other_storage_failure_is_raised_for_the_500_page():
    error = StorageError("HeadObject", "InternalError", "We encountered an internal error.")
    with pytest.raises(StorageError):
        pages.version_file(Archive(error=error), VERSION)  # type: ignore[arg-type]


# --- what a cosmetic change page says of links ----------------------------------------------------------


def test_a_link_whose_target_changed_is_named_with_both_targets():
    before = "If you live outside the EEA, [this version of our Privacy Policy](https://openai.com/policies/privacy-policy/) applies."
    after = "If you live outside the EEA, [this version of our Privacy Policy](https://openai.com/policies/row-privacy-policy/) applies."
    assert link_changes(before, after) == [
        {
            "text": "this version of our Privacy Policy",
            "before": "https://openai.com/policies/privacy-policy/",
            "after": "https://openai.com/policies/row-privacy-policy/",
            "gone": False,
            "new": False,
        }
    ]


def test_an_image_that_lost_its_link_and_an_anchor_that_went_are_each_named():
    image = "[![](/hc/theming_assets/01JK)](https://docs.midjourney.com/hc/theming_assets/01JK)"
    assert link_changes(image, "![](/hc/theming_assets/01JK)") == [
        {
            "text": "image /hc/theming_assets/01JK",
            "before": "https://docs.midjourney.com/hc/theming_assets/01JK",
            "after": None,
            "gone": False,
            "new": False,
        }
    ]
    anchor = link_changes("1\\. Service Availability[](#h_01JD8G54)", "1\\. Service Availability")
    assert anchor == [
        {"text": "anchor (no link text)", "before": "#h_01JD8G54", "after": None, "gone": True, "new": False}
    ]


def test_links_on_both_sides_are_not_changes_and_new_ones_are_named():
    before = "See [our terms](https://x.test/terms)."
    after = "See [our terms](https://x.test/terms) and [cookies](https://x.test/cookies)."
    assert link_changes(before, after) == [
        {"text": "cookies", "before": None, "after": "https://x.test/cookies", "gone": False, "new": True}
    ]


@pytest.mark.timeout(10)
def test_links_are_read_in_time_in_a_passage_built_to_defeat_them():
    hostile = "[" * 4000 + "](" * 3000 + "![" * 3000 + "[!" * 1990  # within the 20,000 characters read
    assert link_changes(hostile, hostile + " [a](b)")[-1]["after"] == "b"


# --- unsubscribe ----------------------------------------------------------------------------------------


def _unsubscribe(subscribers: Subscribers, token: str = "tok_1", *, confirmed: bool) -> pages.PageResponse:
    return pages.unsubscribe(subscribers, "sub_1", token, confirmed=confirmed, action="/unsubscribe?s=sub_1&t=tok_1")  # type: ignore[arg-type]


def test_a_get_asks_with_a_button_and_changes_nothing():
    subscribers = Subscribers()
    page = _unsubscribe(subscribers, confirmed=False)
    assert page.status == 200 and '<form method="post" action="/unsubscribe?s=sub_1&amp;t=tok_1">' in page.body
    assert "Stop every policywatch alert and digest to this address?" in page.body
    assert subscribers.writes == 0 and subscribers.status == "active"


def test_a_post_unsubscribes():
    subscribers = Subscribers()
    page = _unsubscribe(subscribers, confirmed=True)
    assert page.status == 200 and "You are unsubscribed" in page.body and "<form" not in page.body
    assert (subscribers.writes, subscribers.status) == (1, "unsubscribed")


@pytest.mark.parametrize("confirmed", [False, True])
def test_someone_already_unsubscribed_is_told_so_and_nothing_is_written(confirmed):
    subscribers = Subscribers(status="unsubscribed")
    page = _unsubscribe(subscribers, confirmed=confirmed)
    assert page.status == 200 and "You are unsubscribed" in page.body
    assert subscribers.writes == 0


@pytest.mark.parametrize("confirmed", [False, True])
def test_a_wrong_link_is_a_404_saying_so(confirmed):
    subscribers = Subscribers()
    page = _unsubscribe(subscribers, "guess", confirmed=confirmed)
    assert page.status == 404 and "Link not valid" in page.body and "this link is not valid" in page.body
    assert subscribers.writes == 0 and subscribers.status == "active"


def test_a_post_that_loses_a_race_to_the_same_click_reads_again_and_is_unsubscribed(no_waiting):
    subscribers = Subscribers(conflicts=1)
    page = _unsubscribe(subscribers, confirmed=True)
    assert page.status == 200 and "You are unsubscribed" in page.body
    assert subscribers.writes == 1 and len(no_waiting) == 1 and 0 <= no_waiting[0] <= 0.05


def test_a_post_that_keeps_losing_asks_to_try_again_later(no_waiting):
    subscribers = Subscribers(conflicts=100, other_writer_unsubscribes=False)
    page = _unsubscribe(subscribers, confirmed=True)
    assert page.status == 503 and page.headers == (("Retry-After", "5"),)
    assert "please try again" in page.body
    assert subscribers.writes == pages.UNSUBSCRIBE_ATTEMPTS and subscribers.status == "active"
    assert len(no_waiting) == pages.UNSUBSCRIBE_ATTEMPTS
    assert all(0 <= wait <= 0.05 * 2**attempt for attempt, wait in enumerate(no_waiting))  # jittered, growing
