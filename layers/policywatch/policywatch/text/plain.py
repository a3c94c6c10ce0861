"""The text a reader reads: a Markdown passage without its markup, and its words.

Shared by the analysis (which compares words) and the messages (which quote them). Every
pattern here reads a text in linear time, whatever it holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from policywatch.text.noise import LONG_LINE, single_spaced, typography

_BULLET = re.compile(r"^\s*[-*+\u2022]\s+")
# Markup that carries no words: ``![alt](src)``, ``[text](target)``, ``<tag ...>``. The bracket
# text is read possessively and the rest is optional, so an opening that leads nowhere is
# consumed (and kept) in one pass: every opening inside it would reach the same "]" and fail
# too. The text is cut after its last ")" (or ">") first, past which nothing can close.
_IMAGE = re.compile(r"!\[[^\]]*+(\]\([^)]*\))?")
_LINK = re.compile(r"\[((?:[^\]\\]++|\\.)*+)(\]\([^)]*\))?")  # "\]" inside the text is escaped
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
# Text that pages render for screen readers or per browser, not part of the policy.
_ASSISTIVE = re.compile(
    r"\(?\b(?:link )?opens? in (?:a )?new (?:window|tab)\b\)?|\bexternal link\b|\bcopy link\b|"
    r"\blink to this (?:heading|section)\b|\bback to top\b|\bskip to (?:main )?content\b",
    re.I,
)
_ASSISTIVE_HINTS = ("new window", "new tab", "external link", "copy link", "link to this", "back to top", "skip to")
# Keys as browsers render them ("Ctrl", "⌘"); matched on lower-case text.
_KEYS = re.compile(r"(?:\b(?:ctrl|control|cmd|command|option|alt|shift)\b|[\u2318\u2325\u21e7\u2303])\s*\+?\s*")
_KEY_HINTS = ("ctrl", "control", "cmd", "command", "option", "alt", "shift", "\u2318", "\u2325", "\u21e7", "\u2303")
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

_EMPHASIS = re.compile(r"\*\*|__|\*|(?<!\w)_|_(?!\w)|`")


def _closed_sub(
    pattern: re.Pattern[str], replacement: str | Callable[[re.Match[str]], str], text: str, closer: str
) -> str:
    """``pattern.sub`` on the part of ``text`` up to its last ``closer``: no match reaches past it."""
    end = text.rfind(closer) + 1
    if not end:
        return text
    return pattern.sub(replacement, text[:end]) + text[end:]


def _image_space(match: re.Match[str]) -> str:
    return " " if match.group(1) else match.group(0)


def _link_text(match: re.Match[str]) -> str:
    return match.group(1) if match.group(2) else match.group(0)


def plain(text: str) -> str:
    """The text a reader reads, on one line: Markdown markup, link targets and images gone,
    typography and whitespace folded."""
    if "](" in text:
        text = _closed_sub(_LINK, _link_text, _closed_sub(_IMAGE, _image_space, text, ")"), ")")
    if "<" in text:
        text = _closed_sub(_HTML_TAG, " ", text, ">")
    text = text.replace("\\", "")
    if "*" in text or "_" in text or "`" in text:  # a search in C, ten times quicker than the regex
        text = _EMPHASIS.sub("", text)
    text = text.replace("|", " ")
    text = typography(text)
    lowered = text.lower()
    if any(hint in lowered for hint in _ASSISTIVE_HINTS):
        text = _ASSISTIVE.sub(" ", text)
    return _BULLET.sub("", single_spaced(text), count=1)


def words(text: str) -> tuple[str, ...]:
    return plain_words(plain(text))


def plain_words(plain_text: str) -> tuple[str, ...]:
    """The words of a text already made plain, each in its canonical spelling (``canonical``)."""
    if len(plain_text) <= LONG_LINE:
        return _canonical_words(WORD.findall(_fold(plain_text.lower())))
    # A long text is read in pieces cut at spaces (no word or key spans one), and each word is
    # kept once: a million words of a few thousand distinct ones take 8 MB, not 60.
    seen: dict[str, str] = {}
    found: list[str] = []
    start = 0
    while start < len(plain_text):
        end = plain_text.find(" ", start + LONG_LINE)
        end = len(plain_text) if end < 0 else end
        piece = _canonical_words(WORD.findall(_fold(plain_text[start:end].lower())))
        found.extend(map(seen.setdefault, piece, piece))
        start = end
    return tuple(found)


# ---------------------------------------------------------------------------- canonical words
#
# Two texts a reader reads as the same words compare equal (issue 13). Every rule is applied
# to both versions alike, so folding two spellings into one can only hide a difference
# between those two spellings, never a change of meaning:
#
# - e-mail addresses, written out or hidden by Cloudflare ("[email protected]"), are one word,
#   "emailaddress": which address, like which link target, is not a change of the words;
# - web addresses written in the text (``https://…``, ``www.…``, ``example.com/path``) are
#   dropped, as link targets are;
# - initials lose their dots ("L.L.C." is "llc"), "e-mail" is "email" ("&" is no word, and
#   "and" a filler word of ``diff._is_wording``);
# - British spellings are American ones ("personalised", "licence", "behaviour", "centre",
#   "cancelled", "judgement", "programme", "catalogue");
# - number words up to twenty are digits, and "thirty (30)" is "30" once.

_EMAIL = re.compile(
    r"(?:mailto:)?[a-z0-9][a-z0-9._%+-]*+@[a-z0-9-]++(?:\.[a-z0-9-]++)++|[a-z0-9._%+-]*+\[*email(?:&#160;|\s)protected\b"
)
_TLDS = (
    "com|org|net|ai|io|dev|co|app|edu|gov|eu|uk|de|fr|es|it|nl|se|ch|cn|jp|kr|in|me|tech|so|gg|sh|xyz|"
    "green|info|biz|cloud|chat|page|site|legal|help|studio|video|inc|llc"
)
_WEB = re.compile(
    r"\b(?:https?://|www\.)\S++|(?<![\w.@-])(?:[a-z0-9][a-z0-9-]*+\.)++(?:" + _TLDS + r")\b(?![.-]?\w)(?:/\S*+)?"
)
_INITIALS = re.compile(r"\b(?:[a-z]\.){2,}")


def _fold(lowered: str) -> str:
    """Keys as one word, addresses folded, initials joined (see above)."""
    lowered = _keys(lowered)
    if "@" in lowered or "protected" in lowered:
        lowered = _EMAIL.sub(" emailaddress ", lowered)
    if "." in lowered or "//" in lowered:
        lowered = _WEB.sub(" ", lowered)
        lowered = _INITIALS.sub(lambda m: m.group(0).replace(".", "") + " ", lowered)
    if "e-mail" in lowered:
        lowered = lowered.replace("e-mail", "email")
    return lowered


_NUMBERS = {
    word: str(n)
    for n, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "ninety": "90", "hundred": "100"})
_SPELLINGS = {
    "licence": "license", "licences": "licenses", "licenced": "licensed", "licencing": "licensing",
    "defence": "defense", "offence": "offense", "offences": "offenses", "pretence": "pretense",
    "judgement": "judgment", "judgements": "judgments", "acknowledgement": "acknowledgment",
    "acknowledgements": "acknowledgments", "programme": "program", "programmes": "programs",
    "catalogue": "catalog", "catalogues": "catalogs", "dialogue": "dialog", "ageing": "aging",
    "enrolment": "enrollment", "enrolments": "enrollments", "instalment": "installment",
    "instalments": "installments", "fulfil": "fulfill", "fulfils": "fulfills", "fulfilment": "fulfillment",
    "whilst": "while", "amongst": "among", "grey": "gray", "cheque": "check", "cheques": "checks",
    "tonne": "ton", "tonnes": "tons", "plough": "plow", "aluminium": "aluminum", "storey": "story",
    "artefact": "artifact", "artefacts": "artifacts", "mould": "mold", "jewellery": "jewelry",
    "practise": "practice", "practised": "practiced", "favourite": "favorite", "favourites": "favorites",
}  # fmt: skip
_OUR = re.compile(r"^(behavi|col|fav|hon|lab|neighb|rum|endeav|harb|flav|hum|sav|vap|od|arm|vig|rig|cand|sav)our")
_TRE = re.compile(r"^(cen|me|thea|fib|li|spec|lus|sombre)tre(s|d)?$")
_DOUBLE_L = re.compile(
    r"^(cancel|label|model|travel|signal|total|channel|fuel|level|counsel|marshal|dial|tunnel|panel|jewel|"
    r"quarrel|funnel|initial|pedal|rival|shovel|equal|lab|tunnel|enrol)l(ed|ing|er|ers|ation)$"
)
_ISE = re.compile(r"^(\w{3,}[^aeiou\W])is(e|es|ed|ing|er|ers|ation|ations|able)$")
_YSE = re.compile(r"^(anal|paral|catal|hydrol|dial)ys(e|es|ed|ing)$")


@lru_cache(maxsize=1 << 16)
def canonical(word: str) -> str:
    """A word's canonical spelling: American for British, digits for number words."""
    if word in _NUMBERS:
        return _NUMBERS[word]
    if word in _SPELLINGS:
        return _SPELLINGS[word]
    if len(word) < 5 or word.isdigit():
        return word
    if "our" in word:
        word = _OUR.sub(r"\1or", word)
    if word.endswith(("tre", "tres", "tred")):
        word = _TRE.sub(r"\1ter\2", word) if _TRE.match(word) else word
    if "ll" in word:
        word = _DOUBLE_L.sub(r"\1\2", word)
    if "is" in word:
        word = _ISE.sub(r"\1iz\2", word)
    if "ys" in word:
        word = _YSE.sub(r"\1yz\2", word)
    return word


def _canonical_words(found: list[str]) -> tuple[str, ...]:
    words = tuple(map(canonical, found))
    if "emailaddress" in words or any(w in _NUMBERS for w in found):  # "thirty (30) days": one number
        words = tuple(w for i, w in enumerate(words) if not (i and w == words[i - 1] and _once(w)))
    return words


def _once(word: str) -> bool:
    """Words said twice in a row that mean one thing: "thirty (30)", an address and its link."""
    return word.isdigit() or word == "emailaddress"


def _keys(lowered: str) -> str:
    """Keys as browsers render them, as the one word "key"."""
    if any(key in lowered for key in _KEY_HINTS):
        return _KEYS.sub(" key ", lowered)
    return lowered
