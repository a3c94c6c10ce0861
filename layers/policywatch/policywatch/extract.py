"""Extraction stage: cut the policy text out of a page and render it as Markdown.

The Markdown keeps what a reader needs to cite a clause (headings, paragraphs, list items,
table rows, link text and targets) and nothing of the page's machinery (scripts, styles,
hidden nodes, cookie banners). It is archived as it is; the *fingerprint* that decides
whether the text changed is taken from a normalised form with the noise folded away
(``policywatch.noise``; every rule is written down in docs/extraction.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Doctype, ProcessingInstruction

from policywatch.catalog import FILTERS  # declared in the catalog schema, applied here while rendering
from policywatch.noise import fingerprint, normalise

__all__ = [
    "EXTRACTOR_VERSION",
    "FILTERS",
    "ExtractionError",
    "check_page",
    "check_text",
    "extract",
    "fingerprint",
    "normalise",
]

# Bump when a change here can change the Markdown of an unchanged page: versions carry it,
# and `policywatch reextract` rebuilds them from snapshots as technical changes.
EXTRACTOR_VERSION = "2"


_DROP = (
    "script",
    "style",
    "noscript",
    "svg",
    "template",
    "iframe",
    "object",
    "canvas",
    "head",
    "button",
    "select",
    "input",
    "textarea",
    "dialog",
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
    "blockquote",
    "address",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "pre",
    "details",
    "summary",
    "body",
    "html",
    "form",
    "fieldset",
    "center",
}
# Containers whose element children a browser lays out apart (flex rows, stacked spans):
# adjacent words from two such children get a space between them.
_LAYOUT = _BLOCKS - {"p", "dt", "dd", "pre", "summary", "figcaption", "address", "blockquote"}
_WS = re.compile(r"[ \t\r\n\f]+")  # source line breaks are whitespace; only <br> breaks a line
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

# Cookie banners: consent-manager containers by their well-known ids and classes, and any
# dialog or banner region labelled as being about cookies or consent. A policy section
# *about* cookies (say ``id="cookies"``) is policy text and stays.
_CMP_IDS = {
    "onetrust-consent-sdk",
    "onetrust-banner-sdk",
    "cybotcookiebotdialog",
    "usercentrics-root",
    "didomi-host",
    "truste-consent-track",
    "consent_blackbar",
    "qc-cmp2-container",
    "sp_message_container",
    "cmpbox",
    "osano-cm-window",
    "cookie-law-info-bar",
    "wcpconsentbannerctrl",
    "cookie-banner",
    "cookiebanner",
    "cookie-consent",
    "cookieconsent",
    "cookie-notice",
    "cookie-bar",
    "gdpr-cookie-notice",
}
_CMP_CLASSES = {"cc-window", "cc-banner", "osano-cm-dialog", "cookie-banner", "cookie-consent", "cookie-notice"}
_COOKIE_WORDS = re.compile(r"cookie|consent", re.I)
_BANNER_ROLES = {"dialog", "alertdialog", "region", "banner"}


class ExtractionError(Exception):
    """The page was fetched but holds no usable policy text; ``kind`` names the failure."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def parse(html: bytes | str) -> BeautifulSoup:
    """The page's tree. lxml's parser (libxml2, in C) builds it 25-40% faster than Python's
    html.parser on the corpus pages, and gives the same Markdown on every one of them."""
    return BeautifulSoup(html, "lxml")


def extract(
    html: bytes | str | BeautifulSoup,
    select: Sequence[str],
    remove: Sequence[str] = (),
    *,
    base_url: str | None = None,
    filters: Sequence[str] = (),
) -> str:
    """Markdown of the elements matched by ``select`` minus ``remove``, in document order.

    Links are rendered ``[text](target)`` with targets made absolute against ``base_url``;
    ``filters`` are the declaration's (see ``FILTERS``).
    """
    unknown = [f for f in filters if f not in FILTERS]
    if unknown:
        raise ExtractionError("unknown-filter", f"{unknown!r} (known: {list(FILTERS)})")
    soup = html if isinstance(html, BeautifulSoup) else parse(html)
    # Selectors see the page as it was served (positional selectors like :nth-child count
    # the scripts too); only then do removals and the page's machinery go.
    roots = _matched_roots(soup, select)
    removed = [node for selector in remove for node in _select(soup, selector)]
    if not roots:
        raise ExtractionError("selector-matched-nothing", f"no element matches {list(select)!r}")
    for node in removed:
        if not node.decomposed:
            node.decompose()
    # Only what was selected is rendered, so only its machinery needs to go: one pass over
    # the selected subtrees, not one per tag name over the whole page.
    for root in roots:
        if root.decomposed:
            continue
        for node in [root, *root.find_all(True)]:
            if not node.decomposed and (node.name in _DROP or _is_hidden_or_banner(node)):
                node.decompose()
    roots = [root for root in roots if not root.decomposed]
    if not roots:
        raise ExtractionError("selector-matched-nothing", f"{list(select)!r} matched only removed or hidden elements")
    renderer = _Renderer(base_url, set(filters))
    blocks: list[str] = []
    for root in roots:
        blocks.extend(renderer.blocks(root))
    return "\n\n".join(blocks).strip() + "\n"


def _select(soup: BeautifulSoup, selector: str) -> list[Tag]:
    try:
        return soup.select(selector)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
        raise ExtractionError("invalid-selector", f"{selector!r}: {exc}") from None


def _matched_roots(soup: BeautifulSoup, select: Sequence[str]) -> list[Tag]:
    """Matches of all selectors, in document order, without nesting one inside another."""
    matched: list[Tag] = []
    for selector in select:
        matched.extend(_select(soup, selector))
    ids = {id(node) for node in matched}
    outermost = [n for n in matched if not any(id(p) in ids for p in n.parents)]
    unique = list({id(n): n for n in outermost}.values())
    if len(unique) < 2:
        return unique
    order = {id(node): i for i, node in enumerate(soup.find_all(True))}
    return sorted(unique, key=lambda n: order.get(id(n), 0))


def _is_hidden_or_banner(tag: Tag) -> bool:
    attrs = tag.attrs
    if not attrs:
        return False
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    if style and _HIDDEN_STYLE.search(str(style)):
        return True
    return _is_cookie_banner(tag)


def _is_cookie_banner(tag: Tag) -> bool:
    ident = str(tag.get("id", "")).lower()
    classes = {c.lower() for c in tag.get("class", [])}
    if ident in _CMP_IDS or classes & _CMP_CLASSES or tag.has_attr("data-cookie-banner"):
        return True
    role = str(tag.get("role", "")).lower()
    if role in _BANNER_ROLES or tag.get("aria-modal") == "true":
        labels = " ".join(
            str(tag.get(a, "")) for a in ("aria-label", "aria-labelledby", "aria-describedby", "id", "class")
        )
        return bool(_COOKIE_WORDS.search(labels))
    return False


class _Renderer:
    """Markdown rendering of one selected root."""

    def __init__(self, base_url: str | None, filters: set[str]) -> None:
        self.base_url = base_url
        self.drop_targets = "drop-link-targets" in filters
        self.drop_query = "drop-query-strings" in filters

    # Inline content ---------------------------------------------------------------
    def inline(self, node: Tag | NavigableString) -> str:
        if isinstance(node, (Comment, Doctype, ProcessingInstruction)):
            return ""
        if isinstance(node, NavigableString):
            return _WS.sub(" ", str(node))
        if node.name == "br":
            return "\n"
        text = self._children_inline(node)
        if node.name == "a":
            return self._link(node, text)
        if node.name == "li":
            return f" • {text} "  # a list inside a table cell: bulleted items on one line
        if node.name in _BLOCKS or node.name in ("tr", "td", "th", "ul", "ol", "table") or node.name in _HEADINGS:
            return f" {text} "  # a block inside inline content (a list in a table cell) stays a separate word
        return text

    def _children_inline(self, node: Tag) -> str:
        parts: list[str] = []
        previous_was_element = False
        for child in node.children:
            piece = self.inline(child)
            is_element = isinstance(child, Tag)
            if is_element and previous_was_element and node.name in _LAYOUT:
                parts.append(_separator(parts, piece))
            parts.append(piece)
            if piece.strip() or not is_element:
                previous_was_element = is_element
        return "".join(parts)

    def _link(self, node: Tag, text: str) -> str:
        label = _clean(text).replace("\n", " ")
        target = self._target(str(node.get("href", "")).strip())
        if not label or not target:
            return text
        return f"[{label}]({target})"

    def _target(self, href: str) -> str | None:
        if self.drop_targets or not href or href.startswith("#") or href.lower().startswith("javascript:"):
            return None
        target = urljoin(self.base_url, href) if self.base_url else href
        if self.drop_query:
            parts = urlsplit(target)
            target = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return target.replace(" ", "%20").replace(")", "%29").replace("(", "%28")

    # Blocks -----------------------------------------------------------------------
    def blocks(self, root: Tag) -> list[str]:
        blocks: list[str] = []
        inline: list[str] = []
        previous_was_element = False

        def flush() -> None:
            nonlocal previous_was_element
            text = _clean("".join(inline))
            inline.clear()
            previous_was_element = False
            if text:
                blocks.append(text)

        def walk(children: Iterable[Tag | NavigableString], parent: str | None) -> None:
            nonlocal previous_was_element
            for child in children:
                if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
                    continue
                if isinstance(child, NavigableString):
                    inline.append(_WS.sub(" ", str(child)))
                    previous_was_element = False
                    continue
                name = child.name
                if name in _HEADINGS:
                    flush()
                    text = _clean(self._heading_text(child)).replace("\n", " ")
                    if text:
                        blocks.append("#" * _HEADINGS[name] + " " + text)
                elif name in ("ul", "ol"):
                    flush()
                    self._list(child, 0, blocks)
                elif name == "table":
                    flush()
                    table = self._table(child)
                    if table:
                        blocks.append(table)
                elif name == "hr":
                    flush()
                elif name in _BLOCKS or name == "li":
                    flush()
                    walk(child.children, name)
                    flush()
                else:
                    piece = self.inline(child)
                    if previous_was_element and parent in _LAYOUT:
                        inline.append(_separator(inline, piece))
                    inline.append(piece)
                    if piece.strip():
                        previous_was_element = True

        walk([root], None)  # the root itself may be a heading, a list or a table
        flush()
        return blocks

    def _heading_text(self, heading: Tag) -> str:
        # Headings keep their words; a heading that is itself a link keeps its target.
        return self._children_inline(heading)

    def _list(self, listing: Tag, depth: int, blocks: list[str]) -> None:
        for index, item in enumerate(listing.find_all("li", recursive=False), start=1):
            marker = f"{index}." if listing.name == "ol" else "-"
            nested = [c for c in item.children if isinstance(c, Tag) and c.name in ("ul", "ol")]
            for sub in nested:
                sub.extract()
            text = _clean(self._children_inline(item)).replace("\n", " ")
            if text:
                blocks.append("  " * depth + f"{marker} {text}")
            for sub in nested:
                self._list(sub, depth + 1, blocks)

    def _table(self, table: Tag) -> str:
        """A Markdown table: the first row is the header, one line per row."""
        rows = []
        for row in table.find_all("tr"):
            if row.find_parent("table") is not table:
                continue  # a nested table's rows belong to its cell
            cells = [
                _clean(self._children_inline(c)).replace("\n", " ").replace("|", "\\|")
                for c in row.find_all(["th", "td"], recursive=False)
            ]
            if any(cells):
                rows.append("| " + " | ".join(cells) + " |")
        if not rows:
            return ""
        width = rows[0].count(" | ") + 1
        return "\n".join([rows[0], "|" + " --- |" * width, *rows[1:]])


def _separator(parts: list[str], piece: str) -> str:
    """A space between two adjacent laid-out elements when neither side has one."""
    before = next((p for p in reversed(parts) if p), "")
    if before and piece and not before[-1].isspace() and not piece[0].isspace():
        return " "
    return ""


def _clean(text: str) -> str:
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


# Sanity checks --------------------------------------------------------------------

# Titles of error pages, bot walls and interstitials (served with 200 by some CDNs).
_BAD_TITLES = [
    ("bot-wall", re.compile(r"^\s*(just a moment|attention required|checking your browser|please wait|"
                            r"verify(ing)? you are (a )?human|are you a robot|security check|ddos protection|"
                            r"access to this page has been denied|pardon our interruption|one more step)", re.I)),
    ("error-page", re.compile(r"^\s*(\d{3}\b|error\b|page not found|not found|access denied|forbidden|"
                              r"service unavailable|bad gateway|too many requests|something went wrong|"
                              r"oops|site maintenance|under maintenance)", re.I)),
]  # fmt: skip
# Markers of a challenge or error served instead of the page (checked only on short pages:
# ordinary pages behind the same CDNs carry some of these scripts too).
_BAD_BODY = [
    ("bot-wall", re.compile(r"cf-chl-|cf_chl_opt|_Incapsula_Resource|px-captcha|captcha-delivery\.com|"
                            r"enable javascript and cookies to continue|complete the security check|"
                            r"verify you are human|are you a robot", re.I)),
    ("error-page", re.compile(r"page (you('re| are) looking for|not found)|404 not found|"
                              r"this page (could not|can't|cannot) be found|an error (has )?occurred|"
                              r"temporarily unavailable", re.I)),
]  # fmt: skip
_SHORT_PAGE_CHARS = 3000


def check_page(soup: BeautifulSoup) -> None:
    """Refuse a page that is an error page, a bot wall or an interstitial served with 200.

    Call before selecting: a challenge page usually matches no selector either, and
    "bot wall" says more to an operator than "selector matched nothing".
    """
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for kind, pattern in _BAD_TITLES:
        if title and pattern.search(title):
            raise ExtractionError(kind, f"the page's title is {title[:80]!r}")
    body = soup.body or soup
    visible = _WS.sub(" ", body.get_text(" ", strip=True))
    if len(visible) < _SHORT_PAGE_CHARS:
        raw = str(body)[:200_000]
        for kind, pattern in _BAD_BODY:
            match = pattern.search(visible) or pattern.search(raw)
            if match:
                raise ExtractionError(kind, f"a short page ({len(visible)} characters) saying {match.group(0)!r}")


# Words and phrases of policy and contract language. A page that hits fewer than
# _MIN_POLICY_TERMS distinct ones is not a policy (a product page, a login page, a stub).
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
