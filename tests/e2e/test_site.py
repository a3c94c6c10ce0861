"""The public site as a person reads it: a real policy history, loaded through the deployed
pipeline, opened in Chromium through CloudFront on the local stack.

The data: Midjourney's Terms of Service as Open Terms Archive recorded it, 21 versions from
October 2023 to July 2026 (../shared/corpus/histories, ODC-By 1.0), archived as the fetch stage
archives a version; the deployed diff function turns the S3 events into change records and the
site's read model, as it does after a sweep. The reader goes home -> platform page -> a marker
on its governance timeline (keyboard first: its summary is announced; then a click) -> the
change -> the archived version it names -> the document -> two versions compared.

Every page type is held to the same: no console error or uncaught exception, every address of
ours it links to or loads answers under 400, no serious or critical axe-core violation, and a
full-page screenshot kept under .local/screenshots/site/ (1280 px wide; home and change also
375 px). ``axe.json`` there lists every violation axe reported, serious or not. The README's two
images (docs/images/site-*.png) are written again when ``README_IMAGES=1``.

The stack is shared with test_stack.py, which counts what is in the archive: the data loaded
here is removed again (archive objects and read-model items) when this module is done.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from policywatch.storage import clients as aws
from policywatch.storage.archive import Archive, stamp
from tests.helpers.browser import Reader, chromium, links, serious_violations
from tests.helpers.corpus import HISTORIES
from tests.helpers.paths import ROOT
from tests.helpers.site import MIDJOURNEY
from tests.helpers.waiting import wait_for

SCREENSHOTS = ROOT / ".local" / "screenshots" / "site"
README_IMAGES = ROOT / "docs" / "images"
DESKTOP, PHONE = 1280, 375
HISTORY = MIDJOURNEY
DOCUMENT = f"{HISTORY.platform}/{HISTORY.document}"
SUBSTANTIVE = 8  # of the 20 changes; the rest are cosmetic, date-only and flaps (the page alternates)
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Version:
    stamp: str
    sha256: str  # as the corpus recorded it


@dataclass
class Loaded:
    """What the pipeline made of the history: its versions and change records, oldest first."""

    versions: list[Version]
    changes: dict[str, dict[str, Any]]  # by the stamp of the version that made the change

    @property
    def substantive(self) -> list[dict[str, Any]]:
        return [c for c in self.changes.values() if c["kind"] == "substantive"]


@pytest.fixture(scope="module")
def history(deployed) -> Iterator[Loaded]:
    """The history through the deployed pipeline; removed again afterwards, even when loading failed."""
    try:
        started = time.monotonic()
        loaded = _load(deployed)
        print(f"\n{len(loaded.versions)} versions through the deployed pipeline in {time.monotonic() - started:.1f} s")
        yield loaded
    finally:
        _remove(deployed)


def _load(deployed) -> Loaded:
    """Each version archived as a sweep archives it, the next once the deployed diff function has
    recorded the change its S3 event brought (one warm function, not twenty cold ones at once)."""
    index = json.loads((HISTORIES / HISTORY.folder / "index.json").read_text())
    versions: list[Version] = []
    changes: dict[str, dict[str, Any]] = {}
    with pytest.MonkeyPatch.context() as env:  # the package's own boto3 clients, pointed at the MiniStack
        for name, value in deployed.env.items():
            if name.startswith("AWS_"):
                env.setenv(name, value)
        aws.reset()
        try:
            archive = Archive(deployed.outputs["ArchiveBucketName"])
            for entry in index["versions"]:
                moment = datetime.fromisoformat(entry["recorded_at"])
                metadata = {
                    "source-url": HISTORY.url,
                    "fetched-at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "document-type": HISTORY.document_type,
                    "extractor-version": "2",
                }
                text = (HISTORIES / HISTORY.folder / entry["file"]).read_text()
                archive.put_version(DOCUMENT, moment, text, metadata)
                versions.append(Version(stamp(moment), entry["sha256"]))
                if len(versions) > 1:  # the first version has nothing to be compared with
                    key = f"changes/{DOCUMENT}/{versions[-1].stamp}.json"
                    raw = wait_for(f"the change record {key}", lambda key=key: archive.get_optional(key), interval=0.1)
                    changes[versions[-1].stamp] = json.loads(raw)
        finally:
            aws.reset()
    api = f"{deployed.site_url}/api/v1/documents/{DOCUMENT}"
    wait_for("the site to list them", lambda: len(requests.get(api, timeout=30).json()["changes"]) == len(changes))
    return Loaded(versions, changes)


def _remove(deployed) -> None:
    """Leave the shared stack as this module found it (test_stack.py counts the archive's objects)."""
    s3, bucket = deployed.client("s3"), deployed.outputs["ArchiveBucketName"]
    keys = [
        {"Key": o["Key"]}
        for prefix in (f"versions/{DOCUMENT}/", f"changes/{DOCUMENT}/", f"memory/{DOCUMENT}.json")
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    ]
    if keys:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    # The read model: the document's partition, and its rows in the feed and provision partitions.
    dynamodb, table = deployed.client("dynamodb"), deployed.outputs["SiteTableName"]
    items = [
        item
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="pk, sk")
        for item in page["Items"]
        if DOCUMENT in item["pk"]["S"] + item["sk"]["S"]
    ]
    for start in range(0, len(items), 25):  # BatchWriteItem's limit
        request = {table: [{"DeleteRequest": {"Key": item}} for item in items[start : start + 25]]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems")


# -- the browser and what every page is held to --


@dataclass
class Checks:
    """What each page type showed: its problems, axe's findings; the links already checked (once each)."""

    origin: str
    answered: dict[str, int] = field(default_factory=dict)
    axe: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    session: requests.Session = field(default_factory=requests.Session)

    def statuses(self, urls: list[str]) -> dict[str, int]:
        ours = [u for u in urls if _origin(u) == self.origin and u not in self.answered]
        with ThreadPoolExecutor(max_workers=4) as pool:
            for url, status in zip(ours, pool.map(self._status, ours), strict=True):
                self.answered[url] = status
        return {u: self.answered[u] for u in urls if _origin(u) == self.origin}

    def _status(self, url: str) -> int:
        return self.session.get(url, timeout=60, allow_redirects=False).status_code


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def checks(deployed) -> Iterator[Checks]:
    found = Checks(_origin(deployed.site_url))
    yield found
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "axe.json").write_text(json.dumps(found.axe, indent=1))


@pytest.fixture
def reader(browser, deployed) -> Iterator[Reader]:
    context = browser.new_context(viewport={"width": DESKTOP, "height": 900}, base_url=deployed.site_url)
    yield Reader(context.new_page())
    context.close()


def held_to_the_site_rules(reader: Reader, checks: Checks, page_type: str, *, width: int = DESKTOP) -> None:
    """No script or console error, every link of ours answers, no serious axe violation; screenshot kept."""
    page = reader.page
    page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = page_type if width == DESKTOP else f"{page_type}-{width}"
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    serious, every = serious_violations(page)
    checks.axe[name] = [
        {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]} for v in every
    ]
    broken = {url: status for url, status in checks.statuses(links(page)).items() if status >= 400}
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert reader.errors() == [], f"{page_type}: console or script errors"
    assert broken == {}, f"{page_type}: links that do not answer"
    assert serious == [], f"{page_type}: serious or critical axe-core violations"
    assert overflow <= 0, f"{page_type}: wider than a {width} px screen by {overflow} px"


# -- the journey --


def test_a_reader_follows_a_change_from_the_home_page_to_two_versions_compared(history, reader, checks):
    page = reader.page
    latest = history.substantive[-1]  # Midjourney's terms of 15 July 2026: medium severity, worse for users
    latest_stamp = _stamp_of(latest)

    # Home: the watched platforms, and the latest substantive changes with their severity.
    page.goto("/")
    assert page.get_by_role("heading", level=1).count() == 1
    newest = page.get_by_role("link", name=latest["summary"], exact=True)
    assert newest.count() == 1, "the latest change is listed by its summary"
    assert "15 Jul 2026" in page.inner_text("main") and "Medium severity" in page.inner_text("main")
    held_to_the_site_rules(reader, checks, "home")

    # The platform page: its documents and its governance timeline.
    page.get_by_role("link", name="Midjourney", exact=True).first.click()
    page.wait_for_url(f"**/platforms/{HISTORY.platform}")
    assert page.get_by_role("heading", level=1).inner_text() == "Midjourney"
    assert page.get_by_role("link", name=HISTORY.document_type, exact=True).count() >= 1
    held_to_the_site_rules(reader, checks, "platform")

    # A marker, reached by keyboard: its summary is announced; a click opens its change.
    marker = page.get_by_role("link", name=re.compile(rf"^{_day(latest_stamp)}: Medium severity"))
    for _ in range(300):
        page.keyboard.press("Tab")
        if marker.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the timeline's marker of the latest change")
    assert latest["summary"][:60] in page.locator("[aria-live]").inner_text()
    _readme_image(page, "site-timeline", down_to=page.locator("[aria-live]"))
    marker.click()
    page.wait_for_url(f"**/changes/{DOCUMENT}/{latest_stamp}")

    # The change: what changed, how severe, every passage, the evidence, the previous change.
    seen = page.inner_text("main")
    assert page.get_by_role("heading", level=1).inner_text() == "Midjourney changed its Terms of Service"
    assert "Medium severity" in seen and "Worse for users" in seen and latest["summary"] in seen
    assert "27 May 2026" in seen  # the date the new terms say they take effect
    assert "Community Localization" in seen  # a section the new terms add
    assert "Previous change: 18 May 2026" in seen
    evidence = latest["evidence"]
    assert evidence["previous"]["sha256"] in seen and evidence["current"]["sha256"] in seen
    assert evidence["current"]["sha256"] == history.versions[-1].sha256  # the corpus's own hash of the text
    held_to_the_site_rules(reader, checks, "change")
    _readme_image(page, "site-change")

    # The archived version it names, readable, with its hash.
    page.locator(f'main a[href$="/documents/{DOCUMENT}/versions/{latest_stamp}"]').first.click()
    page.wait_for_url(f"**/documents/{DOCUMENT}/versions/{latest_stamp}")
    seen = page.inner_text("main")
    assert history.versions[-1].sha256 in seen and "Community Localization" in seen
    held_to_the_site_rules(reader, checks, "version")

    # Back to the document: every archived version, the current text with its provisions marked.
    page.get_by_role("link", name=HISTORY.document_type, exact=True).first.click()
    page.wait_for_url(f"**/documents/{DOCUMENT}")
    seen = page.inner_text("main")
    assert all(_day(v.stamp) in seen for v in history.versions), "every archived version is listed"
    assert all(v.sha256 in seen for v in history.versions), "with its hash"
    assert "Provisions marked in this text" in seen and "Acceptable use" in seen
    held_to_the_site_rules(reader, checks, "document")

    # Two versions compared: August 2024's terms with February 2025's, which add the Image Editor.
    older, newer = _version_on(history, "2024-08-14"), _version_on(history, "2025-02-06")
    page.get_by_role("combobox", name=re.compile("^From")).select_option(older.stamp)
    page.get_by_role("combobox", name=re.compile("^To")).select_option(newer.stamp)
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"/compare\?"))
    seen = page.inner_text("main")
    assert "14 Aug 2024 compared with 6 Feb 2025" in page.get_by_role("heading", level=1).inner_text()
    assert "11. Image Editor" in seen and "Editor Access and Restrictions" in seen
    assert older.sha256 in seen and newer.sha256 in seen
    held_to_the_site_rules(reader, checks, "compare")


@pytest.mark.parametrize(
    ("page_type", "path", "says"),
    [
        ("provisions", "/provisions", "Provisions"),
        ("provision", "/provisions/dispute-resolution", "Midjourney"),
        ("category-timeline", "/timeline/dispute-resolution", "Midjourney"),
    ],
)
def test_the_cross_platform_pages_read_cleanly(history, reader, checks, page_type, path, says):
    reader.page.goto(path)
    assert says in reader.page.inner_text("main")
    held_to_the_site_rules(reader, checks, page_type)


@pytest.mark.parametrize("page_type", ["home", "change"])
def test_the_home_and_change_pages_fit_a_phone(history, browser, checks, deployed, page_type):
    context = browser.new_context(viewport={"width": PHONE, "height": 800}, base_url=deployed.site_url)
    try:
        reader = Reader(context.new_page())
        reader.page.goto("/" if page_type == "home" else f"/changes/{DOCUMENT}/{_stamp_of(history.substantive[-1])}")
        held_to_the_site_rules(reader, checks, page_type, width=PHONE)
    finally:
        context.close()


# -- feeds and the API through the site's address --


def test_the_document_feed_is_atom_whose_entries_open_their_change_pages(history, deployed, checks):
    response = requests.get(f"{deployed.site_url}/feeds/documents/{DOCUMENT}.atom", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}id") and feed.findtext(f"{ATOM}updated")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(history.substantive) == SUBSTANTIVE  # what alerted, and only that
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(set(ids)) == len(ids)
    pages = [entry.find(f"{ATOM}link").get("href") for entry in entries]
    assert all(f"/changes/{DOCUMENT}/" in url for url in pages)
    assert set(checks.statuses(pages).values()) == {200}
    assert {entry.findtext(f"{ATOM}summary") for entry in entries} >= {c["summary"] for c in history.substantive[-3:]}


def test_the_api_lists_the_changes_a_page_at_a_time(history, deployed):
    url = f"{deployed.site_url}/api/v1/changes?platform={HISTORY.platform}&limit=3"
    listed, pages = [], 0
    while url:
        response = requests.get(url, timeout=30)
        assert response.status_code == 200 and response.headers["ETag"]
        body = response.json()
        assert len(body["items"]) <= 3
        listed += body["items"]
        url, pages = body["next"], pages + 1
    assert pages == 3
    assert [c["change_id"] for c in listed] == [c["change_id"] for c in reversed(history.substantive)]


# -- helpers --


def _stamp_of(change: dict[str, Any]) -> str:
    return change["evidence"]["current"]["key"].rsplit("/", 1)[1].removesuffix(".md")


def _day(stamp_: str) -> str:
    moment = datetime.strptime(stamp_[:10], "%Y-%m-%d")
    return f"{moment.day} {moment:%b %Y}"


def _version_on(history: Loaded, day: str) -> Version:
    return next(v for v in history.versions if v.stamp.startswith(day))


def _readme_image(page, name: str, down_to=None) -> None:
    """The README's picture of this page at 1280 px: from the top to just under ``down_to`` (on the
    platform page, the focused marker's summary under the timeline, and the legend's first line),
    else the first screen."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"readme-{name}.png"
    if down_to is not None:
        box = down_to.bounding_box()
        bottom = box["y"] + page.evaluate("window.scrollY") + box["height"] + 40
        clip = {"x": 0, "y": 0, "width": DESKTOP, "height": min(bottom, 1000)}
        page.screenshot(path=str(target), clip=clip, full_page=True)
    else:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(target))
    if os.environ.get("README_IMAGES") == "1":
        README_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, README_IMAGES / f"{name}.png")
