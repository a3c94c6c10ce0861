"""Extraction stage: cut the policy text out of a page and render it as Markdown.

The Markdown keeps what a reader needs to cite a clause (headings, paragraphs, list items,
table rows, link text and targets) and nothing of the page's machinery (scripts, styles,
hidden nodes, cookie banners). It is archived as it is; the *fingerprint* that decides
whether the text changed is taken from a normalised form with the noise folded away
(``policywatch.text.noise``; every rule is written down in docs/extraction.md).

A page is hostile input: each extraction holds to a budget (``policywatch.fetch.extraction.budget``), and
every pass over the tree is a single walk with an explicit stack. The Markdown itself is
written by ``policywatch.fetch.extraction.markdown``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bs4 import BeautifulSoup, Tag

from policywatch.catalog import FILTERS  # declared in the catalog schema, applied here while rendering
from policywatch.fetch.extraction.budget import ExtractionBudget, check_depth, check_markup, extraction_slot
from policywatch.fetch.extraction.checks import ExtractionError
from policywatch.fetch.extraction.markdown import WHITESPACE as _WS
from policywatch.fetch.extraction.markdown import Renderer
from policywatch.text.noise import fingerprint, normalise

__all__ = [
    "FILTERS",
    "ExtractionError",
    "check_page",
    "extract",
    "fingerprint",
    "html_to_markdown",
    "normalise",
    "parse",
]


_DROP = {
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
}
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


def parse(html: bytes | str) -> BeautifulSoup:
    """The page's tree. lxml's parser (libxml2, in C) builds it 25-40% faster than Python's
    html.parser on the corpus pages, and gives the same Markdown on every one of them.

    A page with more markup than the budget allows is refused before any of it is parsed.
    """
    check_markup(html)
    return BeautifulSoup(html, "lxml")


def html_to_markdown(
    html: bytes | str,
    select: Sequence[str],
    remove: Sequence[str] = (),
    *,
    base_url: str | None = None,
    filters: Sequence[str] = (),
    deadline: float | None = None,
) -> str:
    """One fetched HTML page's Markdown, as the pipeline extracts it, within the page's budget.

    Parses, refuses error pages and bot walls (``check_page``), then ``extract``: all under
    one ``ExtractionBudget`` (ending at ``deadline``, ``time.monotonic()``, if that is sooner) and in
    one of the process's extraction slots, so that the fetch function's parallel jobs keep
    at most ``EXTRACTION_SLOTS`` page trees in memory at once.
    """
    with extraction_slot(deadline):
        budget = ExtractionBudget(deadline=deadline)
        soup = parse(html)
        check_page(soup)
        return extract(soup, select, remove, base_url=base_url, filters=filters, budget=budget)


def extract(
    html: bytes | str | BeautifulSoup,
    select: Sequence[str],
    remove: Sequence[str] = (),
    *,
    base_url: str | None = None,
    filters: Sequence[str] = (),
    budget: ExtractionBudget | None = None,
) -> str:
    """Markdown of the elements matched by ``select`` minus ``remove``, in document order.

    Links are rendered ``[text](target)`` with targets made absolute against ``base_url``;
    ``filters`` are the declaration's (see ``FILTERS``). Every pass over the tree is linear
    in its size and checks ``budget`` (a fresh one when not given) as it goes.
    """
    unknown = [f for f in filters if f not in FILTERS]
    if unknown:
        raise ExtractionError("unknown-filter", f"{unknown!r} (known: {list(FILTERS)})")
    budget = budget or ExtractionBudget()
    soup = html if isinstance(html, BeautifulSoup) else parse(html)
    check_depth(soup, budget)  # before selectors, whose matching can grow with depth
    # Selectors see the page as it was served (positional selectors like :nth-child count
    # the scripts too); only then do removals and the page's machinery go.
    matched = {id(node) for selector in select for node in _select(soup, selector)}
    removed = {id(node) for selector in remove for node in _select(soup, selector)}
    if not matched:
        raise ExtractionError("selector-matched-nothing", f"no element matches {list(select)!r}")
    roots, doomed = _roots_and_removals(soup, matched, removed, budget)
    for node in doomed:
        node.decompose()
    # Only what was selected is rendered, so only its machinery needs to go: one pass over
    # the selected subtrees, not one per tag name over the whole page.
    kept = []
    for root in roots:
        machinery = _outermost(root, lambda node: node.name in _DROP or _is_hidden_or_banner(node), budget)
        for node in machinery:
            node.decompose()
        if not machinery or machinery[0] is not root:
            kept.append(root)
    if not kept:
        raise ExtractionError("selector-matched-nothing", f"{list(select)!r} matched only removed or hidden elements")
    renderer = Renderer(base_url, set(filters), budget)
    blocks: list[str] = []
    for root in kept:
        blocks.extend(renderer.blocks(root))
    return "\n\n".join(blocks).strip() + "\n"


def _select(soup: BeautifulSoup, selector: str) -> list[Tag]:
    try:
        return soup.select(selector)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError, over several lines
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExtractionError("invalid-selector", f"{selector!r}: {said}") from None


def _roots_and_removals(
    soup: BeautifulSoup, matched: set[int], removed: set[int], budget: ExtractionBudget
) -> tuple[list[Tag], list[Tag]]:
    """The outermost matched elements not inside a removed one, in document order, and the
    outermost removed elements: one walk of the tree (bs4's ``decomposed`` and ``parents``
    would each cost a walk per element, quadratic in the page's depth)."""
    roots: list[Tag] = []
    doomed: list[Tag] = []
    stack: list[tuple[Tag, bool]] = [(soup, False)]
    while stack:
        node, inside_root = stack.pop()
        budget.check("selecting")
        if id(node) in removed:
            doomed.append(node)  # and whatever it holds, matched or not
            continue
        if not inside_root and id(node) in matched:
            roots.append(node)
            inside_root = True
        stack.extend((child, inside_root) for child in reversed(node.contents) if isinstance(child, Tag))
    return roots, doomed


def _outermost(top: Tag, wanted: Callable[[Tag], bool], budget: ExtractionBudget) -> list[Tag]:
    """``top`` and the elements under it for which ``wanted`` holds, none inside another, in document order."""
    found: list[Tag] = []
    stack = [top]
    while stack:
        node = stack.pop()
        budget.check("cleaning")
        if wanted(node):
            found.append(node)
        else:
            stack.extend(child for child in reversed(node.contents) if isinstance(child, Tag))
    return found


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
    classes = {c.lower() for c in tag.get_attribute_list("class")}
    if ident in _CMP_IDS or classes & _CMP_CLASSES or tag.has_attr("data-cookie-banner"):
        return True
    role = str(tag.get("role", "")).lower()
    if role in _BANNER_ROLES or tag.get("aria-modal") == "true":
        labels = " ".join(
            str(tag.get(a, "")) for a in ("aria-label", "aria-labelledby", "aria-describedby", "id", "class")
        )
        return bool(_COOKIE_WORDS.search(labels))
    return False


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
