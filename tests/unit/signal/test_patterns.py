"""Issue 13's eight patterns on real text of the GenAI bundle (tests/fixtures/signal, one file
per example: its versions cut from two or more recorded versions, and what a reader expects).

Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0 (tests/fixtures/signal/README.md).

- ``noise``: none of the versions after the first alerts (chrome, micro-edits, obfuscated
  addresses, consent banners, flaps back to an earlier text);
- ``alert``: the last version alerts (a real change, in any language);
- ``failure``: a version after the first is refused by the sanity checks (an error page in
  place of the policy), and nothing of it alerts;
- ``accept``: every version passes the sanity checks (a policy in another language, an imprint).

The versions go through the pipeline's rules in the pipeline's order (``check_text``, the
fingerprint, ``analyse`` with the memory of every earlier version), as ``policywatch replay``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policywatch.analysis.assess import analyse, words_key_of
from policywatch.fetch.extraction.checks import ExtractionError, check_text
from policywatch.text.noise import fingerprint, normalise

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "signal"
EXAMPLES = sorted(FIXTURES.glob("*/*.json"))
MIN_CHARS = 200  # below the archivist's 500: the examples are excerpts of pages (test_fetch checks the size)

# Examples the rules do not get right yet, each with why: they must keep failing, so that a
# fix shows here (strict xfail) and the list stays the honest list of what is left.
KNOWN: dict[str, str] = {
    "chrome/microsoft-copilot-privacy-whats-new-banner": "a 'What's New?' banner in sentences",
    "collapse/mistral-developer-terms-page-stops-bundling": "a page that stops bundling three documents alerts "
    "on the removal once accepted as the new size (a reader sees no change)",
    "consent-banner/fireworks-privacy-banner-appears": "a 286-line consent dialog: its vendor descriptions are sentences",
    "error-inside/github-copilot-privacy-heading-only": "an empty capture above the minimum size: its heading alone",
    "languages/le-chat-imprint-host-change": "a short imprint: two terms of policy language in its first blocks",
    "micro-edits/deepseek-privacy-legal-bases-table-vanishes": "a table missing from one capture (its return is a flap)",
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _alerts(texts: list[str]) -> list[bool]:
    """Whether each version after the first alerts, with the document's memory of texts."""
    if len(texts) < 2:
        return [False]
    fingerprints, words, previous, alerts = [fingerprint(texts[0])], [words_key_of(texts[0])], texts[0], []
    for text in texts[1:]:
        current = fingerprint(text)
        if current == fingerprints[-1]:
            alerts.append(False)
            continue
        result = analyse(
            previous, text, seen_fingerprints=set(fingerprints[:-1]), seen_words=set(words[:-1]), fingerprint=current
        )
        fingerprints.append(current)
        words.append(result.words_key)
        previous = text
        alerts.append(result.alert)
    return alerts


def _refused(texts: list[str]) -> list[str]:
    """The sanity check refusing each version ("" when it passes), against the last one passed."""
    kinds, last = [], None
    for text in texts:
        try:
            last = check_text(text, min_chars=MIN_CHARS, previous_chars=last).chars
            kinds.append("")
        except ExtractionError as exc:
            kinds.append(exc.kind)
    return kinds


@pytest.mark.parametrize("path", EXAMPLES, ids=[f"{p.parent.name}/{p.stem}" for p in EXAMPLES])
def test_each_real_example_is_read_as_a_reader_reads_it(path: Path, request: pytest.FixtureRequest):
    example = _load(path)
    name = f"{path.parent.name}/{path.stem}"
    if name in KNOWN:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN[name]))
    texts, expect = example["texts"], example["expect"]
    # The sanity checks read whole pages: they judge the examples whose pattern is theirs
    # (error pages, flaps with an error page, collapses, languages); the other examples are
    # excerpts of a page, compared as the diff stage compares the pages they come from.
    if expect in ("failure", "accept") or path.parent.name in ("long-flap", "collapse"):
        refused = _refused(texts)
    else:
        refused = [""] * len(texts)
    kept = [t for t, kind in zip(texts, refused, strict=True) if not kind]  # what the archivist keeps
    if expect == "noise":
        assert not any(_alerts(kept)), example["what"]
    elif expect == "alert":
        assert not refused[-1] and _alerts(kept)[-1], example["what"]
    elif expect == "failure":
        assert any(refused[1:]), example["what"]
        assert not any(_alerts(kept)), example["what"]
    else:
        assert expect == "accept"
        assert not any(_refused(texts)), example["what"]


def test_the_examples_cover_every_pattern_of_the_issue():
    classes = {p.parent.name for p in EXAMPLES}
    assert {"long-flap", "error-inside", "consent-banner", "obfuscated-email", "chrome", "micro-edits",
            "collapse", "languages", "real-change"} <= classes  # fmt: skip
    assert all(normalise(t) for p in EXAMPLES for t in _load(p)["texts"])
