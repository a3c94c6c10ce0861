"""Hostile versions for the diff stage (issue 11, finding 3), for ``python -m bench.hostile``.

Each case builds the two versions (or the one text) the review used and runs them through
the diff stage's code once: ``analysis.analyse`` as the diff Lambda does (blocks, alignment,
pairing, classes, provisions, word-level changes in the record), or the one helper the
finding names (``noise.normalise``, ``blocks.plain``, ``blocks.sentences``...). The cases use
only what exists before and after the fix, so ``--compare /tmp/before`` measures both.
"""

from __future__ import annotations

import json

from policywatch.analysis.assess import analyse
from policywatch.analysis.blocks import parse, plain, sentences
from policywatch.analysis.provisions import taxonomy
from policywatch.text.noise import normalise

_VOCABULARY = (
    "we may share your personal data with service providers partners affiliates advertisers to train "
    "improve models retain delete information content inputs outputs account services policy terms "
    "law enforcement cookies security rights access request notice update change children age"
)
_WORDS = _VOCABULARY.split()


def _analysed(old: str, new: str) -> str:
    result = analyse(old, new)
    record = result.to_dict()
    limits = record.get("limits") or []
    limited = f"; limited: {', '.join(entry['step'] for entry in limits)}" if limits else ""
    size = len(json.dumps(record, ensure_ascii=False).encode())
    return (
        f"{record['kind']}, {len(record['blocks']):,} changed passages, "
        f"{sum(len(b.get('delta', [])) for b in record['blocks']):,} delta runs, {size / 2**20:.1f} MB of JSON{limited}"
    )


def _paragraph(i: int, words: int = 12, salt: int = 0) -> str:
    """A distinct sentence-like paragraph: words drawn by ``i`` (and ``salt``), with its number."""
    picked = [_WORDS[(i * 7 + k * 13 + salt) % len(_WORDS)] for k in range(words)]
    return f"Clause {i}: " + " ".join(picked) + f" item{i}x{salt}."


def md_link_flood() -> str:
    text = "](" * 50_000  # 100 KB
    return f"normalised to {len(normalise(text)):,} characters"


def md_image_flood() -> str:
    text = "![a](" * 40_000  # 200 KB
    return f"plain text of {len(plain(text)):,} characters"


def bracket_flood() -> str:
    text = "[" * 200_000 + "](x"  # every "[" reads on to the one "](" and finds no ")"
    return f"plain text of {len(plain(text)):,} characters"


def tag_flood() -> str:
    text = "<a" * 100_000
    return f"plain text of {len(plain(text)):,} characters"


def heading_hashes() -> str:
    text = "# a" + "#" * 30_000 + "b"
    return f"{len(parse(text)):,} blocks"


def table_spaces() -> str:
    text = " " * 30_000 + "|x"  # a table row whose separator check split the spaces every way
    return f"{len(parse(text)):,} blocks"


def heading_spaces() -> str:
    text = "# a" + " " * 3_000 + "b"  # cubic: the lazy title, then two runs of spaces, at every character
    return f"{len(parse(text)):,} blocks"


def anchor_links() -> str:
    text = "- " + "[a](#x)  " * 30 + "z"  # a list item of in-page links that is not only links
    blocks = parse(text)
    return f"navigation: {blocks[0].is_navigation}"


def abbreviations() -> str:
    text = "Inc. A " * 40_000
    return f"{len(sentences(text)):,} sentences"


def negation_sentence() -> str:
    text = "we do not " + "share data and train models with partners " * 20_000  # one 840 KB sentence
    assessment = taxonomy().assess("", text, "Privacy Policy > Sharing")
    return f"{len(assessment.findings)} findings, severity {assessment.severity}"


def _unlike(i: int, side: str) -> str:
    """A paragraph that shares no word with any other: it pairs with nothing."""
    return " ".join(f"{side}{i}w{k}" for k in range(12)) + "."


def all_different_2000() -> str:
    old = "\n\n".join(_unlike(i, "old") for i in range(2_000))
    new = "\n\n".join(_unlike(i, "new") for i in range(2_000))
    return _analysed(old, new)


def reworded_5000() -> str:
    old = "\n\n".join(_paragraph(i) for i in range(5_000))
    new = "\n\n".join(_paragraph(i).replace(" may ", " will ", 1).replace(f"x{0}.", "y.") for i in range(5_000))
    return _analysed(old, new)


def blocks_40000() -> str:
    old = "\n\n".join(_paragraph(i, words=6) for i in range(40_000))
    new = "\n\n".join(_paragraph(i, words=6, salt=i % 3) for i in range(40_000))
    return _analysed(old, new)


def repeated_blocks() -> str:
    old = "\n\n".join("Yes." if i % 2 else _paragraph(i) for i in range(6_000))
    new = "\n\n".join("Yes." if i % 2 else _paragraph(i, salt=1) for i in range(6_000))
    return _analysed(old, new)


def heading_1mb() -> str:
    title = "# " + " ".join(_WORDS[(k * 5) % len(_WORDS)] for k in range(160_000))  # a 1 MB heading line
    old = title + "\n\n" + "\n\n".join(_paragraph(i) for i in range(200))
    new = title + "\n\n" + "\n\n".join(_paragraph(i, salt=1) for i in range(200))
    return _analysed(old, new)


def paragraph_5mb() -> str:
    words = " ".join(_WORDS[(k * 7) % len(_WORDS)] for k in range(800_000))  # 5 MB, one line
    old = "# Policy\n\n" + words
    new = "# Policy\n\n" + words[:2_500_000] + " we will sell your data " + words[2_500_000:]
    return _analysed(old, new)


CASES = [
    ("diff-md-link-flood-100kb", md_link_flood),
    ("diff-md-image-flood-200kb", md_image_flood),
    ("diff-bracket-flood-200kb", bracket_flood),
    ("diff-tag-flood-200kb", tag_flood),
    ("diff-heading-hashes-30k", heading_hashes),
    ("diff-heading-spaces-3k", heading_spaces),
    ("diff-table-spaces-30k", table_spaces),
    ("diff-anchor-links-30", anchor_links),
    ("diff-abbreviations-280kb", abbreviations),
    ("diff-negation-sentence-840kb", negation_sentence),
    ("diff-all-different-2000-blocks", all_different_2000),
    ("diff-reworded-5000-blocks", reworded_5000),
    ("diff-40000-blocks", blocks_40000),
    ("diff-repeated-blocks-6000", repeated_blocks),
    ("diff-heading-1mb-200-blocks", heading_1mb),
    ("diff-paragraph-5mb", paragraph_5mb),
]
