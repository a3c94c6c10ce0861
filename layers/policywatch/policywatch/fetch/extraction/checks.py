"""What an extraction must be: its version, its one error, and the checks a policy's text passes.

Light on purpose (no HTML parser): the archivist records failures and checks re-extracted text
with it on every fetch, while the parsers are loaded only when a page's content changed.
"""

from __future__ import annotations

import re

from policywatch.core.errors import InputError
from policywatch.text.noise import normalise

# Bump when a change to the extraction (html, markdown, pdf) can change the Markdown of an unchanged
# page: versions carry it, and `policywatch reextract` rebuilds them from snapshots as technical changes.
EXTRACTOR_VERSION = "2"


class ExtractionError(InputError):
    """The page was fetched but holds no usable policy text; ``kind`` names the failure."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


_POLICY_TERMS = re.compile(
    r"\b(privacy|personal (data|information)|terms|policy|agree(ment)?|consent|rights?|"
    r"third[- ]part(y|ies)|law(s|ful)?|liab(le|ility)|warrant(y|ies)|indemnif\w*|arbitration|jurisdiction|"
    r"terminat(e|ion)|licen[cs]e|intellectual property|disclos(e|ure)|collect(ion)?|retention|retain|"
    r"process(ing)?|prohibited|comply|obligations?|governing|breach|cookies?|data protection|"
    r"you (may|must|agree)|we (may|will|collect|use))\b",
    re.I,
)
_MIN_POLICY_TERMS = 6


def check_text(text: str, *, min_chars: int, previous_chars: int | None = None, normalised: str | None = None) -> None:
    """Refuse text that cannot be the policy: too short, collapsed, or not policy language."""
    size = len(normalised if normalised is not None else normalise(text))
    if size < min_chars:
        raise ExtractionError("text-too-short", f"{size} characters, below the minimum of {min_chars}")
    if previous_chars and size < previous_chars * 0.2:
        raise ExtractionError("text-collapsed", f"{size} characters against {previous_chars} in the previous version")
    terms: set[str] = set()
    for match in _POLICY_TERMS.finditer(text[:200_000]):
        terms.add(match.group(0).lower())
        if len(terms) >= _MIN_POLICY_TERMS:
            break
    if len(terms) < _MIN_POLICY_TERMS:
        raise ExtractionError(
            "not-a-policy",
            f"only {len(terms)} distinct terms of policy language (at least {_MIN_POLICY_TERMS} expected)",
        )
