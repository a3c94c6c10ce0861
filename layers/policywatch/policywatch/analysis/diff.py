"""Structural diff: two versions as blocks, aligned, with moves and word-level changes.

1. Both versions are parsed into blocks (``policywatch.analysis.blocks``) and aligned on their
   noise-rule form with ``difflib.SequenceMatcher`` (blocks, not lines: a reflowed
   paragraph is one unit).
2. Where a run of blocks was replaced, a run whose words are unchanged as a whole is a
   reflow (a list item split in two, a paragraph wrapped differently): one formatting change.
3. A removed block whose words reappear elsewhere is a move, not a deletion and an addition.
4. The remaining removed and added blocks of a run are paired in order when their words are
   similar enough (a modified block); the rest are added or removed.
5. Each change gets a class: ``text`` (words changed), or one of the classes that never make
   a change substantive: ``formatting`` (same words), ``link`` (same words, other link
   targets), ``label`` (page chrome such as a language picker), ``navigation`` (an in-page
   table of contents), ``date`` (only dates changed, or a line that only states a date),
   ``moved`` (the same words elsewhere), ``chrome`` (page chrome: the menus, banners and
   footers before and after the policy, passages that are only links, consent banners,
   docs widgets, relative-date counters and error notices anywhere) and ``wording`` (a typo fixed, a dropped "and",
   a cross-reference renumbered, a patent number added: ``_is_wording``) and ``unbundled``
   (a whole document a page no longer carries beside the one watched: ``_unbundled``).

Budgets: a version can be 5 MB of text built to defeat a diff (tens of thousands of blocks,
repeated blocks, one paragraph of a million words). Each matching step charges an allowance
(``policywatch.text.matching``) sized far above what real versions need; past one, that step is
done coarsely (blocks aligned on their unique blocks, pairs sought among nearby candidates,
word-level changes cut to the changed stretch) and the comparison says so in ``limits``.
The change is still recorded and classified; nothing is dropped for being big.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from policywatch.analysis import dates
from policywatch.analysis.blocks import Block, parse, plain_words
from policywatch.analysis.pairing import MIN_PAIR_RATIO, exact_pairs, near_pairs
from policywatch.text.matching import Allowance, BudgetedMatcher, Overrun, coarse_opcodes, common_ends, common_length
from policywatch.text.wordchanges import DELTA_STEPS, word_delta

__all__ = ["MIN_PAIR_RATIO", "BlockChange", "DiffBudget", "Comparison", "compare", "quote"]

MAX_QUOTE_CHARS = 600
# Matching steps one comparison may spend (``matching.Allowance``): five times what the most
# demanding real pairs of the corpus need (2,624 pairs of Open Terms Archive's GenAI
# histories; the largest, Llama API's privacy policy rewritten: 1,900 and 1,327 blocks).
ALIGN_STEPS = 600_000  # aligning the blocks of the two versions (the largest real pair: 119,000)
PAIR_STEPS = 800_000  # pairing removed and added blocks, every run together (real: 159,000)
# Changed blocks compared one by one (the largest real change has 1,287); past them each run
# of blocks is one change.
MAX_DETAILED_CHANGES = 3_000
UNDATED_FULL_CHARS = 100_000  # longer blocks compare their dates around the changed stretch only
_DATE_MARGIN = 100  # characters of unchanged text kept either side of that stretch


@dataclass
class DiffBudget:
    """What one comparison may spend, and each step it had to do coarsely (the record's ``limits``)."""

    align: Allowance = field(default_factory=lambda: Allowance(ALIGN_STEPS))
    pair: Allowance = field(default_factory=lambda: Allowance(PAIR_STEPS))
    delta: Allowance = field(default_factory=lambda: Allowance(DELTA_STEPS))
    limits: list[dict[str, str]] = field(default_factory=list)

    def limit(self, step: str, note: str) -> None:
        """Record that ``step`` was done coarsely (once per step: the first note says why)."""
        if all(entry["step"] != step for entry in self.limits):
            self.limits.append({"step": step, "note": note})


@dataclass(eq=False)
class BlockChange:
    op: str  # added | removed | modified | moved
    cls: str  # text | formatting | link | label | navigation | date | moved | chrome | wording | unbundled
    old: Block | None
    new: Block | None
    at: float = 0.0  # place in document order (set by compare)
    budget: DiffBudget | None = field(default=None, repr=False)  # the comparison's, for the word-level change
    _delta: list[dict[str, str]] | None = field(default=None, init=False, repr=False)

    @property
    def heading(self) -> str:
        return (self.new or self.old).path  # type: ignore[union-attr]

    @property
    def moved_from(self) -> str:
        return self.old.path if self.op == "moved" and self.old else ""

    @property
    def before(self) -> str:
        return self.old.text if self.old else ""

    @property
    def after(self) -> str:
        return self.new.text if self.new else ""

    @property
    def substantive(self) -> bool:
        return self.cls == "text"

    def delta(self) -> list[dict[str, str]]:
        """Word-level changes of a modified block: equal, removed and added runs of the reader's text.

        Computed once, within the comparison's budget (``wordchanges.word_delta``).
        """
        if self.op != "modified" or not self.old or not self.new:
            return []
        if self._delta is None:
            budget = self.budget or DiffBudget()
            self._delta = word_delta(self.old.plain, self.new.plain, budget.delta, budget.limit)
        return list(self._delta)


@dataclass
class Comparison:
    old_blocks: list[Block]
    new_blocks: list[Block]
    changes: list[BlockChange] = field(default_factory=list)
    budget: DiffBudget = field(default_factory=DiffBudget)

    @property
    def substantive(self) -> list[BlockChange]:
        return [c for c in self.changes if c.substantive]

    @property
    def limits(self) -> list[dict[str, str]]:
        """The steps done coarsely for want of budget (empty for real versions)."""
        return self.budget.limits


def compare(old_text: str, new_text: str, *, budget: DiffBudget | None = None) -> Comparison:
    budget = budget or DiffBudget()
    old, new = parse(old_text), parse(new_text)
    comparison = Comparison(old, new, budget=budget)
    runs = [(a1, a2, b1, b2) for op, a1, a2, b1, b2 in _align(old, new, budget) if op != "equal"]

    pending: list[tuple[list[Block], list[Block], int]] = []
    for a1, a2, b1, b2 in runs:
        removed, added = old[a1:a2], new[b1:b2]
        if removed and added and _same_words(removed, added):
            comparison.changes.append(_reflow(removed, added, at=b1))
        else:
            pending.append((removed, added, b1))

    classes = _Classes(old, new)
    moved = _moves(pending)
    moved_to = {id(b) for b in moved.values()}
    detailed, past = len(comparison.changes) + len(moved), 0
    for removed, added, b1 in pending:
        removed = [b for b in removed if b not in moved]
        added_left = [b for b in added if id(b) not in moved_to]
        if detailed < MAX_DETAILED_CHANGES:
            made = _pair(removed, added_left, budget, classes)
            detailed += len(made)
            comparison.changes.extend(made)
        elif removed or added_left:
            comparison.changes.append(_run_change(removed, added_left, at=b1))
            past += len(removed) + len(added_left)
    if past:
        budget.limit(
            "blocks",
            f"over {MAX_DETAILED_CHANGES:,} changed blocks: each run of the other {past:,} is one change, "
            "not paired block by block, and text unless its words are the same",
        )
    comparison.changes.extend(BlockChange("moved", "moved", before, after) for before, after in moved.items())
    for change in comparison.changes:
        change.budget = budget
    _lone_headings(comparison.changes)
    _unbundled(comparison)
    _place(comparison, runs)
    comparison.changes.sort(key=lambda c: c.at)
    return comparison


def _align(old: list[Block], new: list[Block], budget: DiffBudget) -> Sequence[tuple[str, int, int, int, int]]:
    """``SequenceMatcher`` opcodes of the blocks' noise-rule forms; past ``ALIGN_STEPS``, coarse ones."""
    a, b = [block.norm for block in old], [block.norm for block in new]
    try:
        return BudgetedMatcher(a, b, budget.align).get_opcodes()
    except Overrun as exc:
        budget.limit(
            "alignment",
            f"aligning {len(a):,} and {len(b):,} blocks {exc}: aligned on the blocks found once in each version",
        )
        return coarse_opcodes(a, b)


def _place(comparison: Comparison, runs: list[tuple[int, int, int, int]]) -> None:
    """Document order: a change sits where its block is in the new version; a removed block
    where its run was."""
    new_index = {id(b): i for i, b in enumerate(comparison.new_blocks)}
    # A removed block sits where its run is, as far into it as it was in the old version.
    run_of_old = {
        id(b): min(b1 + offset, b2) - 0.5 + offset * 1e-4
        for a1, a2, b1, b2 in runs
        for offset, b in enumerate(comparison.old_blocks[a1:a2])
    }
    for change in comparison.changes:
        if change.new is not None and id(change.new) in new_index:
            change.at = new_index[id(change.new)]
        elif change.new is None and id(change.old) in run_of_old:
            change.at = run_of_old[id(change.old)]
        # else a change of joined blocks (a reflow, a run past the budget), placed when it was made


def _same_words(removed: list[Block], added: list[Block]) -> bool:
    return [w for b in removed for w in b.words] == [w for b in added for w in b.words]


def _reflow(removed: list[Block], added: list[Block], *, at: int) -> BlockChange:
    """A run re-rendered with the same words: one formatting change spanning the run."""
    old, new = _joined(removed), _joined(added)
    cls = "link" if old.link_targets != new.link_targets and old.words == new.words else "formatting"
    return BlockChange("modified", cls, old, new, at)


def _joined(blocks: list[Block]) -> Block:
    return Block(blocks[0].kind, "\n\n".join(b.text for b in blocks), blocks[0].path, blocks[0].level)


def _run_change(removed: list[Block], added: list[Block], *, at: int) -> BlockChange:
    """A run past ``MAX_DETAILED_CHANGES``: one change for all its blocks. Its class is ``text``
    unless its words are the same (or it has none): page chrome and dates are not told apart."""
    if removed and added:
        old, new = _joined(removed), _joined(added)
        cls = (
            "text"
            if not _same_words(removed, added)
            else "link"
            if old.link_targets != new.link_targets
            else "formatting"
        )
        return BlockChange("modified", cls, old, new, at)
    blocks = removed or added
    cls = "text" if any(b.words for b in blocks) else "formatting"
    if removed:
        return BlockChange("removed", cls, _joined(removed), None, at - 0.5)
    return BlockChange("added", cls, None, _joined(added), at)


def _moves(pending: list[tuple[list[Block], list[Block], int]]) -> dict[Block, Block]:
    """Removed blocks whose words reappear, unchanged, somewhere else."""
    by_words: dict[tuple[str, ...], deque[Block]] = {}
    for removed, _, _ in pending:
        for block in removed:
            if len(block.words) >= 3:
                by_words.setdefault(block.words, deque()).append(block)
    moved: dict[Block, Block] = {}
    for _, added, _ in pending:
        for block in added:
            candidates = by_words.get(block.words)
            if candidates:
                moved[candidates.popleft()] = block
    return moved


def _pair(removed: list[Block], added: list[Block], budget: DiffBudget, classes: _Classes) -> list[BlockChange]:
    """Pair removed and added blocks of one run, in order, when their words are alike (``pairing``)."""
    try:
        pairs = exact_pairs(removed, added, budget.pair)
    except Overrun as exc:
        budget.limit(
            "pairing",
            f"pairing {len(removed):,} removed and {len(added):,} added blocks {exc}: "
            "each removed block weighed against nearby added blocks only",
        )
        pairs = near_pairs(removed, added)
    changes: list[BlockChange] = []
    start = 0
    paired = dict(pairs)
    for i, old in enumerate(removed):
        best = paired.get(i)
        if best is None:
            changes.append(BlockChange("removed", classes.single(old), old, None))
            continue
        changes.extend(BlockChange("added", classes.single(b), None, b) for b in added[start:best])
        changes.append(BlockChange("modified", classes.modified(old, added[best]), old, added[best]))
        start = best + 1
    changes.extend(BlockChange("added", classes.single(b), None, b) for b in added[start:])
    return changes


class _Classes:
    """The class of each changed block of one comparison, with what it needs of both versions:
    the page chrome around the policy, and the words each version uses (for typos)."""

    def __init__(self, old: list[Block], new: list[Block]) -> None:
        self.old, self.new = old, new
        self.chrome = _surrounding_chrome(old) | _surrounding_chrome(new)
        self.title_area = _title_area(old) | _title_area(new)
        self._vocabulary: tuple[Counter[str], Counter[str]] | None = None
        self._texts: tuple[str, str] | None = None
        self._passages: tuple[Counter[tuple[str, ...]], Counter[tuple[str, ...]], bool] | None = None

    def duplicate(self, block: Block) -> bool:
        """A passage added while the same words were already there, or removed while they stay
        (a capture that repeats a section, a duplicate dropped): the reader's text says the same.
        A short one ("Notices", "Email: ...") only when a whole stretch of the text is repeated
        or dropped with it (``REPEATED_PASSAGES``): short passages recur in several lists on purpose."""
        if self._passages is None:
            old, new = Counter(b.words for b in self.old), Counter(b.words for b in self.new)
            repeated = sum(
                1 for words in old.keys() | new.keys()
                if len(words) >= DUPLICATE_MIN_WORDS and old[words] and new[words] and old[words] != new[words]
            )  # fmt: skip
            self._passages = (old, new, repeated >= REPEATED_PASSAGES)
        old, new, repeated = self._passages
        if len(block.words) < DUPLICATE_MIN_WORDS and not repeated:
            return False
        return bool(block.words) and old[block.words] > 0 and new[block.words] > 0

    @property
    def vocabulary(self) -> tuple[Counter[str], Counter[str]]:
        """The words of each version's text, its page chrome left out (a footer menu already
        listing "Brand Studio" before the terms renamed "Dream Studio")."""
        if self._vocabulary is None:
            self._vocabulary = (
                Counter(w for b in self.old if not self.is_chrome(b) for w in b.words),
                Counter(w for b in self.new if not self.is_chrome(b) for w in b.words),
            )
        return self._vocabulary

    def says(self, phrase: str, *, old: bool) -> bool:
        """Whether the old (or new) version's text, its chrome left out, has ``phrase`` (lower-case words)."""
        if self._texts is None:
            before, after = (
                " ".join(b.plain.lower() for b in blocks if b.words and not self.is_chrome(b))
                for blocks in (self.old, self.new)
            )
            self._texts = (before, after)
        return re.search(rf"\b{re.escape(phrase)}\b", self._texts[0 if old else 1]) is not None

    def is_chrome(self, block: Block) -> bool:
        """Chrome around the policy, chrome anywhere, or a list entry that is only links."""
        return id(block) in self.chrome or block.is_chrome or block.is_links

    def modified(self, old: Block, new: Block) -> str:
        if old.words == new.words:
            return "link" if old.link_targets != new.link_targets else "formatting"
        if _same_undated(old, new) or (dates.is_date_statement(old.plain) and dates.is_date_statement(new.plain)):
            return "date"
        if old.is_navigation and new.is_navigation:
            return "navigation"
        if (old.is_label and new.is_label) or _renamed_heading(old, new):
            return "label"
        if self.is_chrome(old) and self.is_chrome(new):
            return "chrome"
        if _is_wording(old, new, self):
            return "wording"
        return "text"

    def single(self, block: Block) -> str:
        """The class of a block added or removed on its own."""
        if not block.words:
            return "formatting"  # an image, a rule, an empty cell
        if block.is_navigation:
            return "navigation"
        if block.is_label or id(block) in self.title_area:
            return "label"
        if _listed_codes(block.words):
            return "wording"
        if self.is_chrome(block):
            return "chrome"
        if dates.is_date_statement(block.plain):
            return "date"
        if self.duplicate(block):
            return "moved"
        return "text"


# Chrome before and after the policy: runs of blocks at either end of a page that are only
# links (menus, footers, banners, language pickers, breadcrumbs), labels or short headings.
# A page made only of such blocks has none: it is itself a list.
CHROME_HEADING_WORDS = 4
LABEL_HEADING_WORDS = 6  # a heading this short added or removed on its own is a label
RENAMED_HEADING_WORDS = 12  # a heading this short reworded is a label (the text below it says what changed)
DUPLICATE_MIN_WORDS = 4  # shorter passages ("Email address") recur in several lists on purpose
REPEATED_PASSAGES = 5  # ...unless at least this many longer passages are repeated or dropped with them
TITLE_AREA_WORDS = 4  # the short lines above a page's first passage: a title, a breadcrumb, a kicker
TITLE_AREA_CHARS = 40


def _title_area(blocks: list[Block]) -> set[int]:
    """The short blocks above the first passage of a page ("Legal notice", "* Legal"): its title
    and breadcrumbs, which a capture keeps or drops. Added or removed, they are labels."""
    found: set[int] = set()
    for block in blocks:
        if len(block.words) > TITLE_AREA_WORDS or len(block.plain) > TITLE_AREA_CHARS or "。" in block.plain:
            break  # a passage (in Chinese or Japanese, a sentence is one "word": its full stop says)
        if block.words and not any(c.isdigit() for w in block.words for c in w):  # a date line is a date
            found.add(id(block))
    else:
        return set()  # a page of short lines only: a list, not a title above a text
    return found


def _surrounding_chrome(blocks: list[Block]) -> set[int]:
    def chrome_like(block: Block) -> bool:
        if block.is_links or block.is_chrome or block.is_navigation:
            return True
        if block.kind == "heading":
            return len(block.words) <= CHROME_HEADING_WORDS
        return block.is_label or not block.words

    head = 0
    while head < len(blocks) and chrome_like(blocks[head]):
        head += 1
    if head == len(blocks):
        return set()
    tail = len(blocks)
    while tail > head and chrome_like(blocks[tail - 1]):
        tail -= 1
    # Only runs with links in them are a menu or a footer; a title and a date line are not.
    found: set[int] = set()
    for run in (blocks[:head], blocks[tail:]):
        if any(b.is_links or b.is_chrome for b in run):
            found.update(id(b) for b in run if b.words)
    return found


# A micro-edit (``_is_wording``): at most this many words differ on each side, in all, and
# each difference is one of the harmless kinds (a name replaced throughout is one per place).
WORDING_MAX_WORDS = 6
WORDING_SPAN_WORDS = 1_000  # the stretch between the first and the last difference, words aligned within it
_FILLERS = frozenset({"a", "an", "the", "and", "it", "its", "this", "that"})
_REFERENCES = frozenset(
    {
        "section",
        "sections",
        "clause",
        "clauses",
        "paragraph",
        "article",
        "appendix",
        "exhibit",
        "schedule",
        "annex",
        "part",
    }
)
# Words whose change is never a typo, however close their spelling.
_KEYWORDS = frozenset(
    {"must", "shall", "will", "would", "could", "should", "might", "cannot", "never", "none", "only", "also",
     "sell", "sale", "share", "after", "before", "within", "more", "less", "most", "least", "with", "without",
     "from", "form", "include", "exclude", "opt", "lawful", "unlawful", "data", "date", "days", "year", "years"}
)  # fmt: skip
_NEGATING_PREFIXES = ("un", "in", "im", "ir", "il", "non", "dis", "mis")


def _is_wording(old: Block, new: Block, classes: _Classes) -> bool:
    """Whether the words differ only by a micro-edit: a typo fixed or made (a word one or two
    letters from a word the document uses elsewhere, which the typo itself is not), a filler
    word ("and", "the", "it") added or dropped, words joined or split ("third party"), a
    cross-reference renumbered ("section 7" to "section 8"), or a number added to or dropped
    from a list of patent or registration numbers."""
    a, b = old.words, new.words
    if abs(len(a) - len(b)) > WORDING_MAX_WORDS:
        return False
    head, tail = common_ends(a, b)
    x, y = a[head : len(a) - tail], b[head : len(b) - tail]
    if len(x) > WORDING_SPAN_WORDS or len(y) > WORDING_SPAN_WORDS:
        return False
    opcodes = [op for op in difflib.SequenceMatcher(None, x, y, autojunk=False).get_opcodes() if op[0] != "equal"]
    if sum(i2 - i1 for _, i1, i2, _, _ in opcodes) > WORDING_MAX_WORDS:
        return False
    if sum(j2 - j1 for _, _, _, j1, j2 in opcodes) > WORDING_MAX_WORDS:
        return False
    listed_codes = sum(1 for w in a if _codes((w,))) >= 3  # a list of patent or registration numbers
    for _, i1, i2, j1, j2 in opcodes:
        gone, came = x[i1:i2], y[j1:j2]
        if len(gone) == len(came) == 1 and _cjk_wording(gone[0], came[0]):
            continue
        before = x[i1 - 1] if i1 else (a[head - 1] if head else "")
        if listed_codes and _codes(gone + came):
            continue
        if set(gone + came) <= _FILLERS:
            continue
        if gone and came and "".join(gone) == "".join(came):
            continue
        if len(gone) == len(came) == 1 and _renumbered(before, gone[0], came[0]):
            continue
        if len(gone) == len(came) == 1 and _typo(gone[0], came[0], classes):
            continue
        if len(gone) == len(came) == 1 and _renamed(old, new, gone[0], came[0], classes):
            continue
        return False
    return True


def _renamed(old: Block, new: Block, gone: str, came: str, classes: _Classes) -> bool:
    """A word of a product's or a service's name replaced throughout ("Dream Studio" to "Brand
    Studio", "Grok Teams" to "Grok Business"): capitalised where it stands, inside a sentence,
    next to a capitalised word of the name that did not change; the old name gone from the new
    version's text and the new one absent from the old (page chrome left out: a footer menu
    may list the new name already). Not in a table row, where a name is the entry
    (a sub-processor replaced)."""
    if old.kind == "row" or gone in _KEYWORDS or came in _KEYWORDS:
        return False
    for neighbour in _name_word(old.plain, gone) & _name_word(new.plain, came):
        old_name, new_name = _name(old.plain, gone, neighbour), _name(new.plain, came, neighbour)
        if old_name and new_name and not classes.says(new_name, old=True) and not classes.says(old_name, old=False):
            return True
    return False


def _name(plain_text: str, word: str, neighbour: str) -> str:
    """The two words of a name as they stand ("dream studio"), lower-case, or ""."""
    for pattern in (rf"\b{re.escape(word)} {re.escape(neighbour)}\b", rf"\b{re.escape(neighbour)} {re.escape(word)}\b"):
        found = re.search(pattern, plain_text, re.I)
        if found:
            return found.group(0).lower()
    return ""


def _name_word(plain_text: str, word: str) -> set[str]:
    """The capitalised neighbours of ``word`` where it stands capitalised inside a sentence."""
    found: set[str] = set()
    for match in re.finditer(rf"(\w+)? ?\b({re.escape(word)})\b ?(\w+)?", plain_text, re.I):
        start = match.start(2)
        inside = start > 0 and plain_text[:start].rstrip()[-1:] not in ".!?:"
        if inside and match.group(2)[:1].isupper():
            found.update(n for n in (match.group(1), match.group(3)) if n and n[:1].isupper())
    return found


def _unbundled(comparison: Comparison) -> None:
    """A page that held several documents (each under a title of its own that names a document,
    a level-1 heading; at most ``MAX_BUNDLED_DOCUMENTS``) and now holds fewer, the ones it kept
    still there: the documents it dropped are not a
    change of the one watched (Mistral's DPA page stopped carrying its Terms of Use). Their
    removed passages are ``unbundled``. Documents added to a page stay text: what they say is
    new to the reader of the page."""
    old_titles = {b.words: b for b in comparison.old_blocks if b.kind == "heading" and b.level == 1}
    new_titles = {b.words for b in comparison.new_blocks if b.kind == "heading" and b.level == 1}
    if len(old_titles) < 2 or not new_titles & old_titles.keys():
        return
    if len(old_titles) > MAX_BUNDLED_DOCUMENTS:  # level-1 headings for sections, not documents
        return
    gone = {
        title.path for words, title in old_titles.items() if words not in new_titles and _DOCUMENT.search(title.plain)
    }
    if not gone:
        return
    # One pass each over the blocks and the changes: a document has its path and its children's
    # paths start with it (``_Sections``), whatever the number of titles.
    sections = _Sections()
    size: Counter[str] = Counter(top for b in comparison.old_blocks for top in sections.within(b.path, gone))
    removed: dict[str, list[BlockChange]] = {}
    reworded: set[str] = set()
    for change in comparison.changes:
        if change.old is None:
            continue
        for top in sections.within(change.old.path, gone):
            if change.op == "removed":
                removed.setdefault(top, []).append(change)
            else:  # a passage of it reworded or moved: the document did not simply go
                reworded.add(top)
    for top, changes in removed.items():
        if top not in reworded and len(changes) == size[top]:  # the whole document went, nothing reworded
            for change in changes:
                change.cls = "unbundled"


# A title that names a document, not a section: "Terms of Use", "Privacy Policy", "Data
# Processing Agreement", "Acceptable Use Policy", "Cookie Notice", "Service Terms".
_DOCUMENT = re.compile(
    r"\b(?:terms|policy|policies|agreement|addendum|notice|conditions|statement|guidelines|charter|eula)\b", re.I
)
MAX_BUNDLED_DOCUMENTS = 10


class _Sections:
    """Which sections a heading path lies in: the path itself and each of its ancestors
    (cut at " > "), worked out once per distinct path (a megabyte heading is cut once)."""

    def __init__(self) -> None:
        self._ancestors: dict[str, frozenset[str]] = {}

    def ancestors(self, path: str) -> frozenset[str]:
        found = self._ancestors.get(path)
        if found is None:
            prefixes, at = [path], path.find(" > ")
            while at >= 0:
                prefixes.append(path[:at])
                at = path.find(" > ", at + 3)
            found = self._ancestors[path] = frozenset(prefixes)
        return found

    def within(self, path: str, sections: set[str]) -> frozenset[str]:
        return self.ancestors(path) & sections


def _lone_headings(changes: list[BlockChange]) -> None:
    """A short heading added or removed while nothing under it changed ("Resources" in a
    footer becoming "Learn", a title split off a paragraph) is a label, not a new section."""
    sections = _Sections()
    changed_under: set[str] = set()  # every section with a substantive passage in it
    for change in changes:
        block = change.new or change.old
        if change.substantive and block is not None and block.kind != "heading":
            changed_under |= sections.ancestors(block.path)
    for change in changes:
        block = change.new or change.old
        if change.op not in ("added", "removed") or change.cls != "text" or block is None:
            continue
        short = block.kind == "heading" and len(block.words) <= LABEL_HEADING_WORDS
        if short and block.path not in changed_under:
            change.cls = "label"


def _renamed_heading(old: Block, new: Block) -> bool:
    """A short heading reworded ("Privacy" to "Privacy Policy", "How we are" to "Who we are"):
    a section's title, whose text below says whether anything changed."""
    return old.kind == new.kind == "heading" and max(len(old.words), len(new.words)) <= RENAMED_HEADING_WORDS


def _listed_codes(words: tuple[str, ...]) -> bool:
    """A list of patent or registration numbers ("In Australia: 2020326435, 2023222905"): at
    least two, and at least half its words."""
    codes = sum(1 for w in words if _codes((w,)))
    return codes >= 2 and 2 * codes >= len(words)


# In Chinese, Japanese or Korean a "word" is a run of characters up to the next punctuation:
# a micro-edit is read character by character. These characters negate, permit, oblige or
# name a party: a change that moves or swaps one is never a micro-edit.
_CJK_WORD = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+")
_CJK_NEGATING = frozenset("不未无非勿没否禁我你您他她")  # negations and parties
_CJK_BINDING = _CJK_NEGATING | frozenset("须应可得会将能需必其用户第三方")  # and modals, "users", "third"


def _cjk_wording(old: str, new: str) -> bool:
    """One character swapped for a variant of it ("帐户名" to "账户名"), none of the two a
    binding one; or two neighbouring phrases swapped ("具体可移动端查看" to "移动端具体可查看"),
    neither with a negation or a party in it."""
    if not (_CJK_WORD.fullmatch(old) and _CJK_WORD.fullmatch(new)) or len(old) != len(new):
        return False
    head = common_length(old, new)
    tail = common_length(old[head:][::-1], new[head:][::-1])
    x, y = old[head : len(old) - tail], new[head : len(new) - tail]
    if len(x) == 1:
        return not {x, y} & _CJK_BINDING
    swapped = any(x[:cut] == y[len(y) - cut :] and x[cut:] == y[: len(y) - cut] for cut in range(1, len(x)))
    return swapped and not set(x) & _CJK_NEGATING


def _codes(words: tuple[str, ...]) -> bool:
    """Identifiers such as patent or registration numbers: a run of at least six digits, with
    at most a country's letters before it and a kind code after ("us11574120", "ep1234567b1")."""
    return bool(words) and all(_CODE.fullmatch(w) for w in words)


_CODE = re.compile(r"[a-z]{0,3}\d{6,}(?:[a-z]\d?)?")


def _renumbered(before: str, old: str, new: str) -> bool:
    return before in _REFERENCES and old.isdigit() and new.isdigit()


def _typo(old: str, new: str, classes: _Classes) -> bool:
    if old in _KEYWORDS or new in _KEYWORDS or any(c.isdigit() for c in old + new):
        return False
    shorter, longer = sorted((old, new), key=len)
    if len(shorter) < 4 or any(longer == p + shorter for p in _NEGATING_PREFIXES):
        return False
    if _distance(old, new) > (1 if len(longer) < 8 else 2):
        return False
    # The misspelt one is used nowhere else in the document; the right one is.
    before, after = classes.vocabulary
    old_elsewhere = before[old] + after[old] > 1
    new_elsewhere = before[new] + after[new] > 1
    return old_elsewhere != new_elsewhere


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, with a swap of two neighbouring letters counting as one."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _same_undated(old: Block, new: Block) -> bool:
    """Whether only dates differ. Past ``UNDATED_FULL_CHARS`` the dates are masked around the
    changed stretch only (with a margin wider than any date): the text either side is the
    same in both, and so is what masking makes of it."""
    if max(len(old.plain), len(new.plain)) <= UNDATED_FULL_CHARS:
        return old.undated == new.undated
    a, b = old.plain, new.plain
    head = max(common_length(a, b) - _DATE_MARGIN, 0)
    tail = max(common_length(a[head:][::-1], b[head:][::-1]) - _DATE_MARGIN, 0)
    return plain_words(dates.mask(a[head : len(a) - tail])) == plain_words(dates.mask(b[head : len(b) - tail]))


def quote(text: str) -> str:
    return text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "\u2026"
