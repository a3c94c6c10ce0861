"""Page chrome a policy page carries whatever its place: the patterns both stages know.

The fetch stage refuses a text in which an error notice stands in for part of the policy
(``fetch.extraction.checks``); the diff stage classes a short passage matching ``CHROME`` as
page chrome, never a change of the policy (``analysis.diff``). Matched on lower-case plain
text (``text.plain.plain``); every pattern reads a passage in linear time.
"""

from __future__ import annotations

import re

# Notices a site serves in place of a page: an error, a missing page.
ERROR_NOTICES = (
    r"\bthis page (?:isn't|is not|isn’t) available\b",
    r"\bthe link may be broken\b",
    r"\ban unexpected error (?:has )?occurred\b",
    r"^something went wrong\b",
    r"^(?:error )?404\b.{0,40}$",
    r"^page not found\b",
    r"\btry reloading the page\b",
)
ERROR_NOTICE = re.compile("|".join(ERROR_NOTICES))

CHROME = re.compile(
    "|".join(
        (
            # consent banners and their buttons
            r"\bwe and our \d[\d,]* (?:partners|vendors)\b",
            r"\b\d[\d,]* (?:partners|vendors) (?:use|can use|store|process)\b",
            r"^(?:accept|reject|allow|deny|decline|refuse)(?: all)?(?: cookies)?$",
            r"^(?:accept|reject) all(?: cookies)? (?:accept|reject) all",
            r"\bvendors? (?:seeking|using) (?:consent|legitimate interest)\b",
            # docs-site widgets and relative-date counters
            r"\bwas this (?:page|article|section|doc) (?:helpful|useful)\b",
            r"^(?:last )?(?:updated|edited|modified|published) (?:about )?(?:\d+|an?|one) "
            r"(?:second|minute|hour|day|week|month|year)s? ago$",
            # notices that the page was updated, above it
            r"^_?we(?:'ve|\u2019ve| have) (?:recently )?(?:updated|refreshed|changed) (?:these|this|our) "
            r"(?:polic|terms|privacy|statement).{0,240}\b(?:learn more|(?:previous|prior|this|that) version|here)\b",
            r"^what's new\?",
            # footers and locale pickers
            r"\ball rights reserved\b",
            r"^(?:credits: )?(?:this (?:website|site) is )?(?:made|built|powered) (?:with|by) [\w .-]{1,60}$",
            # patent marking (the product's patents listed on the site), like a copyright line
            r"\b(?:virtual patent marking|protected by (?:one or more )?(?:issued |pending )?(?:u\.s\. )?patents)\b",
            r"\bpatent numbers? from (?:this|these|the) lists?\b",
            r"^(?:\u00a9|\(c\)|copyright \u00a9?)\s*\d{4}\b",
            r"^if you(?:'re| are) (?:based|located|resident|living) in\b.{0,60}\bclick here\b",
            r"\bse risiedi in\b.{0,60}\bclicca qui\b",
            r"^other language versions?\b",
            *ERROR_NOTICES,
        )
    )
)
CHROME_MAX_WORDS = 120  # a passage longer than this is text, whatever it says (banners run to 90)
NOTICE_MAX_CHARS = 200  # an error notice is a short line of its own


def error_notice(plain_lines: list[str]) -> str | None:
    """The first short line that is an error notice ("This page isn't available"), or None."""
    for line in plain_lines:
        if len(line) <= NOTICE_MAX_CHARS:
            found = ERROR_NOTICE.search(line.strip().lower())
            if found:
                return line.strip()
    return None
