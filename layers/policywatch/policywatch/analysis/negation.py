"""Negation and who is bound: whether a "not" before a term still covers it, and whose conduct it rules.

A negation covers a term if it comes before it in the sentence and no new clause starts in
between (``SCOPE_END``: ";", ", unless", ", but", ", we", "even if", "and will"...): "We will
not use your Inputs ... to train" is negated; "If you do not opt out, we will use ... to
train" is not. ``negated`` is the rule; ``Scopes`` answers it for every term of one sentence
in about constant time each, with the same answers (tests/unit/analysis/test_negation.py compares them).
"No" counts as a negation ("No sale of personal data"), except in "no later than", "no more
than" and the like, which state a limit; so do "none", "neither", "nor", "excluding" ("(excluding
model training)") and "prohibit" ("we prohibit the sale of ... data").

``Clauses`` cuts a sentence into clauses (at ";", ": ", bullets and list markers "(a)", "(ii)",
"(3)") and says who a statement at a given place binds. The nearest subject before it in its
clause decides: "you / customer / users may not, must, shall, agree, represent, have not, opt,
consent, share..." binds the user (or is what the user does: "unless you've agreed to the use of
Content for training" is the user's consent, not the platform training); "we" or any other subject with a verb ("Speechify may", "Inputs may be used") does not.
A clause without a subject of its own takes the subject of the sentence's lead-in ("Customer
will not, and will not permit End Users to: (a) ... (c) share ..."). A clause that starts with
a bare prohibition ("Don't share output ..."), or that restricts building competing models,
binds the user too; so does a subject-less list item under a heading of restrictions (the
caller says so). A statement that binds the user is no statement about what the platform does.
"""

from __future__ import annotations

import re
from bisect import bisect_left

# Where a negation's scope ends: a new clause with its own subject or condition.
SCOPE_END = re.compile(
    r";|,\s*(?:unless|but|except|however|and we|we|you|if|when|where|although|though|while|even)\b|"
    r"\b(?:unless|except|however|but|even if)\b|\b(?:and|or)\s+(?:will|may|we|can|shall|must|is|are)\b"
)
NEGATION = re.compile(
    r"\b(not|never|no longer|won't|don't|doesn't|do not|does not|will not|cannot|can't|none|neither|nor|"
    r"excluding|prohibits?|no(?!\s+(?:later|more|less|fewer|matter|sooner|earlier|charge|cost|additional|extra)\b))\b"
)


def negated(sentence: str, position: int) -> bool:
    """A negation before ``position`` whose scope reaches it (no new clause in between)."""
    last = None
    for match in NEGATION.finditer(sentence, 0, position):
        last = match
    return last is not None and not SCOPE_END.search(sentence, last.end(), position)


# Longest match of ``NEGATION`` ("no longer"), and of ``SCOPE_END`` besides its whitespace
# (", although"), with room to spare: ``Scopes`` relies on matches being no longer than this.
_MATCH_WINDOW = 24
_SPACE_RUN = re.compile(r"\s{2,}")
_SCOPE_STARTS = re.compile(f"(?=(?:{SCOPE_END.pattern}))")


class Scopes:
    """``negated`` for every position of one sentence, without reading the sentence again each time.

    ``negated`` reads the sentence from its start up to the term, and from the last negation
    up to it: once per term found, quadratic in a long sentence with many. Here the negations
    and the places where a scope ends are found once. Far from the term, a match is the same
    whether the sentence is cut at the term or not (no match is longer than the window); only
    near the term is it read again, cut there, as ``negated`` does: the same answer.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        found = list(NEGATION.finditer(text))
        self.negation_starts = [m.start() for m in found]
        self.negation_ends = [m.end() for m in found]
        self.scope_starts = [m.start() for m in _SCOPE_STARTS.finditer(text)]
        widest = max((m.end() - m.start() for m in _SPACE_RUN.finditer(text)), default=1)
        self.scope_window = _MATCH_WINDOW + widest

    def negated(self, position: int) -> bool:
        text = self.text
        near = max(position - _MATCH_WINDOW, 0)
        k = bisect_left(self.negation_starts, near) - 1  # the last negation well before the term
        last_end = self.negation_ends[k] if k >= 0 else -1
        for match in NEGATION.finditer(text, max(near, last_end), position):
            last_end = match.end()
        if last_end < 0:
            return False
        near = position - self.scope_window
        if last_end < near:
            i = bisect_left(self.scope_starts, last_end)
            if i < len(self.scope_starts) and self.scope_starts[i] < near:
                return False
        return not SCOPE_END.search(text, max(last_end, near), position)


# ---------------------------------------------------------------------------- who is bound

# Where a clause ends inside a sentence: ";", ": ", a bullet, a list marker "(a)", "(iv)", "(3)".
# A clause starts after the break, or at the list marker itself.
CLAUSE_BREAK = re.compile(r";\s*|:\s+|\s[\u2022\u00b7]\s|(?<!\S)(?=\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)\s)")
_LETS_YOU = r"(?:allows?|lets?|enables?|permits?|helps?|invites?)\s+you\s+(?:to\s+)?"
_USER = (
    r"you|customers?|users?|end[- ]users?|licensees?|developers?|recipients?|subscribers?|members?|"
    r"account holders?|purchasers?|partners? of ours"
)
_BINDING = (
    r"(?:(?:also|hereby|expressly|further|explicitly|otherwise|each|solely|fully|have|has)\s+)*"
    r"(?:may|must|shall|should|will|can|cannot|can't|won't|don't|do not|agree[sd]?|acknowledges?|represents?|"
    r"warrants?|undertakes?|covenants?|(?:are|is)\s+(?:solely\s+|fully\s+)?(?:responsible|prohibited|not|required|obligated)|"
    r"(?:has|have|does|did)\s+(?:not|never)|opt(?:s|ed)?|consent(?:s|ed)?|cho(?:ose|oses|sen)|elect(?:s|ed)?|"
    r"authori[sz]e[sd]?|instruct(?:s|ed)?|enable[sd]?|(?:choose to |decide to )?(?:share|disclose|publish|post)s?)\b"
)
# A subject with its verb: the user's ("you may not", "customer shall"), or any other ("we", "speechify may").
SUBJECT = re.compile(
    rf"\b(?P<user>(?:{_USER}))(?:\s+|['\u2019]ve\s+)(?={_BINDING})|\b(?P<lets>{_LETS_YOU})"
    r"|\b(?P<we>we|us)\b(?!['\u2019]re)"
    r"|\b(?P<other>[a-z][\w.-]*)\s+(?=(?:may|will|shall|must|does|cannot|reserves|agrees|is|are|can)\b)"
)
_NOT_SUBJECTS = frozenset(
    [
        "that",
        "which",
        "who",
        "and",
        "or",
        "but",
        "if",
        "to",
        "it",
        "this",
        "these",
        "those",
        "such",
        "as",
        "when",
        "where",
        "there",
        "what",
        "not",
        "also",
        "only",
        "then",
        "than",
        "so",
        "once",
    ]
)
_IMPERATIVE = re.compile(r"^[\s\W]*(?:don't|do not|never|not|no one may|nobody may)\b")
_COMPETING = re.compile(r"\bcompet(?:e|es|ing|itive|itors?)\b")


class Clauses:
    """The clauses of one (lower-case) sentence, and who a statement at a given place binds."""

    __slots__ = ("text", "spans", "_starts", "_subjects", "_subject_at")

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        for match in CLAUSE_BREAK.finditer(text):
            starts.append(match.end())
        self.spans = [(start, end) for start, end in zip(starts, [*starts[1:], len(text)], strict=True) if end > start]
        if not self.spans:
            self.spans = [(0, len(text))]
        self._starts = [start for start, _ in self.spans]
        self._subjects: list[tuple[int, str]] = []
        for match in SUBJECT.finditer(text):
            if match.group("user") or match.group("lets"):
                self._subjects.append((match.start(), "user"))
            elif match.group("we"):
                self._subjects.append((match.start(), "platform"))
            elif match.group("other") not in _NOT_SUBJECTS:
                self._subjects.append((match.start(), "other"))
        self._subject_at = [position for position, _ in self._subjects]

    def index(self, position: int) -> int:
        """The clause ``position`` is in."""
        return max(bisect_left(self._starts, position + 1) - 1, 0)

    def _subject(self, start: int, position: int) -> str:
        """The nearest subject in ``start..position``, or ""."""
        k = bisect_left(self._subject_at, position) - 1
        if k >= 0 and self._subjects[k][0] >= start:
            return self._subjects[k][1]
        return ""

    def binds_user(self, position: int, *, restrictions: bool = False) -> bool:
        """Whether the statement at ``position`` is a rule for the user (prohibition or obligation).

        ``restrictions``: the passage sits under a heading of restrictions on the user.
        """
        start, end = self.spans[self.index(position)]
        subject = self._subject(start, position)
        if not subject and start > 0:  # a list item: the lead-in's subject
            lead_start, lead_end = self.spans[0]
            subject = self._subject(lead_start, lead_end)
        if subject:
            if subject == "user":
                return True
            return subject == "other" and bool(_COMPETING.search(self.text, start, end))
        clause = self.text[start:end]
        return bool(
            _IMPERATIVE.match(clause) or _IMPERATIVE.match(self.text) or _COMPETING.search(clause) or restrictions
        )
