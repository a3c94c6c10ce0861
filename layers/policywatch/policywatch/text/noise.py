"""Noise rules: the comparison form of a policy text, and its fingerprint.

The archive keeps every version's text faithfully. Whether a fetch *is* a new version is
decided on the normalised form below, where what changes without the policy changing is
folded away. Each rule is listed, with examples, in docs/extraction.md; keep the two in step.

1. Unicode compatibility forms (NFKC): full-width letters, ligatures, odd spaces.
2. Typography: curly and straight quotes, apostrophes and primes; hyphens, dashes and
   minus signs; non-breaking, thin and narrow spaces; zero-width characters and BOMs.
3. Whitespace: runs of spaces collapse, lines are trimmed, blank lines dropped.
4. Link targets (Markdown ``[text](url)`` and bare URLs):
   a. tracking query parameters are dropped (utm_*, gclid, fbclid, ...);
   b. signed-URL and session parameters are dropped (X-Amz-*, Signature, Expires, token, ...);
   c. per-request tokens in paths and remaining values (UUIDs, long hex or base64url
      strings, ``;jsessionid=``) become ``{token}``;
   d. the remaining parameters are sorted, and an empty query or fragment is dropped.

Every rule reads a text in linear time, whatever it holds (issue 11: a flood of "](" made the
link rule quadratic), and a long line is folded without a string for each of its words.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TYPOGRAPHY = dict(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\u2060": "",
        "\ufeff": "",
        "\u00ad": "",  # soft hyphen
    }
)
# One regex pass over the rare characters beats str.translate, which walks every character
# of a non-ASCII text through a dict (ten times slower on a 40 KB policy).
_TYPOGRAPHY_RE = re.compile("[" + re.escape("".join(_TYPOGRAPHY)) + "]")

# 4a. Tracking parameters (exact names, and prefixes ending in "_").
TRACKING_PARAMS = frozenset(
    {
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "fbclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "ref_src",
        "ref_url",
        "s_kwcid",
        "ef_id",
        "trk",
        "trkcampaign",
        "spm",
        "cmpid",
        "icid",
    }
)
TRACKING_PREFIXES = ("utm_", "hsa_", "pk_", "mtm_", "oly_", "vero_")
# 4b. Signed-URL, cache-busting and session parameters: different on every request.
SESSION_PARAMS = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signature",
        "x-amz-signedheaders",
        "x-amz-security-token",
        "signature",
        "sig",
        "expires",
        "key-pair-id",
        "policy",
        "token",
        "access_token",
        "auth",
        "session",
        "sessionid",
        "session_id",
        "sid",
        "jsessionid",
        "phpsessid",
        "nonce",
        "state",
        "_",
        "cb",
        "cachebust",
        "ts",
        "timestamp",
    }
)
# 4c. Tokens: UUIDs; 16+ hex digits; 20+ character base64url runs that mix digits with
# upper- and lower-case letters, or lower-case letters with 5+ digits and no separators.
# Readable slugs ("dec-2023-eu-privacy-policy") are not tokens.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{16,}(?![0-9A-Za-z])")
_RUN = re.compile(r"(?<![0-9A-Za-z_-])[A-Za-z0-9_-]{20,}={0,2}")


def _is_token(run: str) -> bool:
    digits = sum(c.isdigit() for c in run)
    if not digits:
        return False
    if any(c.isupper() for c in run) and any(c.islower() for c in run):
        return True
    return digits >= 5 and "-" not in run and "_" not in run


_JSESSION = re.compile(r";jsessionid=[^/?#]*", re.I)
PLACEHOLDER = "{token}"

# A Markdown link target: "](", a run without ")" or spaces, then ")". The run is read
# possessively and the ")" is optional, so a run that does not end in ")" is consumed (and
# left as it is) in one pass: every "](" inside it would reach the same end and fail too, and
# re-reading the run from each of them was quadratic on a flood of "](" (15 s for 80 KB).
_MD_LINK_TARGET = re.compile(r"\]\(([^)\s]++)(\))?")
_BARE_URL = re.compile(r"(?<!\]\()https?://[^\s)\]>\"']+")


def canonical_url(url: str) -> str:
    """A link target with tracking, session parameters and per-request tokens folded away."""
    return _canonical_url(url) if len(url) <= MEMO_URL_CHARS else _canonical_url.__wrapped__(url)


# A page's links are mostly those of its previous version: each is folded once.
MEMO_URL_CHARS = 2_000


@lru_cache(maxsize=1 << 15)
def _canonical_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in ("http", "https", ""):
        return url
    path = _tokens(_JSESSION.sub("", parts.path))
    kept = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        lower = name.lower()
        if lower in TRACKING_PARAMS or lower.startswith(TRACKING_PREFIXES) or lower in SESSION_PARAMS:
            continue
        kept.append((name, _tokens(value)))
    query = urlencode(sorted(kept), safe="{}/:")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, _tokens(parts.fragment)))


def _tokens(value: str) -> str:
    value = _UUID.sub(PLACEHOLDER, value)
    value = _HEX.sub(PLACEHOLDER, value)
    return _RUN.sub(lambda m: PLACEHOLDER if _is_token(m.group(0)) else m.group(0), value)


def _link_target(match: re.Match[str]) -> str:
    if match.group(2) is None:  # no closing ")": not a link target
        return match.group(0)
    return f"]({canonical_url(match.group(1))})"


def _links(text: str) -> str:
    if "](" in text:
        text = _MD_LINK_TARGET.sub(_link_target, text)
    return _BARE_URL.sub(lambda m: canonical_url(m.group(0)), text)


def typography(text: str) -> str:
    """Rules 1 and 2: compatibility forms, quotes, dashes, special spaces and zero-width characters."""
    return _TYPOGRAPHY_RE.sub(lambda m: _TYPOGRAPHY[m.group(0)], unicodedata.normalize("NFKC", text))


def normalise(text: str) -> str:
    """The comparison form of a text: typography, whitespace and link noise folded away."""
    text = _links(typography(text))
    return "\n".join(single_spaced(line) for line in text.splitlines() if line.strip())


# Runs of whitespace to fold into one space: two or more, or one that is not a space.
_SPACES = re.compile(r"\s{2,}|[^\S ]")
LONG_LINE = 1 << 16


def single_spaced(line: str) -> str:
    """``" ".join(line.split())``: for a long line, without making a string of each of its
    words on the way (a megabyte of text is 200,000 of them, 12 MB)."""
    if len(line) <= LONG_LINE:
        return " ".join(line.split())
    return _SPACES.sub(" ", line).strip()


def fingerprint(text: str, *, normalised: str | None = None) -> str:
    """SHA-256 of the normalised text: equal fingerprints mean no change worth a version."""
    return hashlib.sha256((normalised if normalised is not None else normalise(text)).encode()).hexdigest()
