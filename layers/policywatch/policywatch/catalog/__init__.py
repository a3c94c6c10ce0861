"""What policywatch tracks: platforms and their documents, as validated data files.

The packaged declarations live in ``platforms/*.json`` (one per platform), validated against
``schema.json`` plus the checks JSON Schema cannot express (CSS selectors compile, no page
declared twice in a document, no two documents of a platform with the same id). An operator
can override the whole catalog without redeploying by putting a catalog object in the archive
bucket (see ``policywatch.storage.archive.CATALOG_KEY``); the sweep prefers it when present.
Field reference: docs/catalog.md.
"""

from __future__ import annotations

import difflib
import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

from policywatch.core.errors import InputError

if TYPE_CHECKING:
    import jsonschema

__all__ = [
    "DOCUMENT_TYPES",
    "FILTERS",
    "RENDER_MODES",
    "Catalog",
    "CatalogError",
    "Document",
    "Page",
    "Platform",
    "document_id",
    "load_packaged",
    "parse_catalog",
    "parse_catalog_json",
    "validate_platform",
]

_SCHEMA: dict[str, Any] = json.loads(resources.files(__package__).joinpath("schema.json").read_text())

#: Open Terms Archive's document type names (``@opentermsarchive/terms-types``), the only allowed ``type`` values.
DOCUMENT_TYPES: tuple[str, ...] = tuple(_SCHEMA["$defs"]["documentType"]["enum"])
#: What a document's optional ``filters`` may name (applied while rendering, by ``policywatch.fetch.extraction``).
FILTERS: tuple[str, ...] = tuple(_SCHEMA["$defs"]["filter"]["enum"])
#: ``http``: fetched and extracted here; ``browser``: the page only renders with scripts.
RENDER_MODES: tuple[str, ...] = tuple(_SCHEMA["$defs"]["document"]["properties"]["render"]["enum"])


class CatalogError(InputError):
    """A catalog declaration is invalid; the message names the source and the field."""


@dataclass(frozen=True)
class Page:
    url: str
    select: tuple[str, ...]
    remove: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "select": list(self.select), "remove": list(self.remove)}


@dataclass(frozen=True)
class Document:
    platform: str
    type: str
    pages: tuple[Page, ...]
    render: str = "http"  # one of RENDER_MODES
    filters: tuple[str, ...] = ()  # names from FILTERS; the extraction applies them when rendering

    @property
    def id(self) -> str:
        return document_id(self.type)

    @property
    def key(self) -> str:
        """The document's identity everywhere: ``{platform}/{document id}``."""
        return f"{self.platform}/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "type": self.type,
            "render": self.render,
            "filters": list(self.filters),
            "pages": [page.to_dict() for page in self.pages],
        }

    @classmethod
    def from_job(cls, body: str) -> Document:
        """The document of a fetch job (an SQS body); a malformed job is a CatalogError saying why."""
        try:
            return cls.from_dict(json.loads(body))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise CatalogError(f"malformed fetch job: {type(exc).__name__}: {exc}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            platform=data["platform"],
            type=data["type"],
            render=data.get("render", "http"),
            filters=tuple(data.get("filters", ())),
            pages=tuple(Page(p["url"], tuple(p["select"]), tuple(p.get("remove", ()))) for p in data["pages"]),
        )


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    operator: str
    documents: tuple[Document, ...] = field(default_factory=tuple)
    homepage: str | None = None


@dataclass(frozen=True)
class Catalog:
    platforms: tuple[Platform, ...]

    def platform(self, platform_id: str) -> Platform:
        for platform in self.platforms:
            if platform.id == platform_id:
                return platform
        known = ", ".join(sorted(p.id for p in self.platforms))
        raise CatalogError(f"unknown platform {platform_id!r} (known: {known})")

    def documents(self) -> list[Document]:
        return [doc for platform in self.platforms for doc in platform.documents]

    def platform_ids(self) -> list[str]:
        return [p.id for p in self.platforms]


def document_id(document_type: str) -> str:
    """'Privacy Policy' -> 'privacy-policy' (stable, used in S3 keys and DynamoDB)."""
    return re.sub(r"[^a-z0-9]+", "-", document_type.lower()).strip("-")


FieldPath = tuple[str | int, ...]  # a field's location in a declaration: ("documents", 0, "type")


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # here: a catalog is checked when first loaded, not when a function starts

    return jsonschema.Draft202012Validator(_SCHEMA)


def _field(path: FieldPath) -> str:
    """("documents", 0, "pages", 1, "url") -> 'documents[0].pages[1].url'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _sort_key(path: FieldPath) -> list[tuple[bool, str | int]]:
    return [(isinstance(part, str), part) for part in path]


def _suggest(value: Any, choices: Iterable[str]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _schema_problems(error: jsonschema.ValidationError) -> list[tuple[FieldPath, str]]:
    """A JSON Schema error as (field, message) pairs, worded for whoever edits the file."""
    path: FieldPath = tuple(error.absolute_path)
    named = [part for part in path if isinstance(part, str)]
    last = named[-1] if named else ""
    value = error.instance
    if error.validator == "required":
        match = re.match(r"^'(.+)' is a required property$", error.message)
        return [((*path, match.group(1) if match else "?"), "required field is missing")]
    if error.validator == "additionalProperties" and isinstance(value, dict):
        schema = cast("Mapping[str, Any]", error.schema)  # the object schema that has additionalProperties
        allowed = list(schema.get("properties", {}))
        return [
            ((*path, key), f"unknown field (allowed: {', '.join(allowed)}){_suggest(key, allowed)}")
            for key in sorted(k for k in value if k not in allowed)
        ]
    if error.validator == "enum":
        if last == "type":
            message = f"{value!r} is not an Open Terms Archive document type{_suggest(value, DOCUMENT_TYPES)}"
            return [(path, message + " (the allowed names are listed in docs/catalog.md)")]
        if last == "filters":
            return [(path, f"unknown filter {value!r} (known: {', '.join(FILTERS)})")]
        if last == "render":
            return [(path, f"{value!r} is not a render mode (known: {', '.join(RENDER_MODES)})")]
    if error.validator == "pattern":
        if last == "url":
            return [(path, f"{value!r} is not an https:// URL (plain http:// only for a loopback host)")]
        if last == "homepage":
            return [(path, f"{value!r} is not an https:// URL")]
        if last == "id":
            return [(path, f"{value!r} must be lowercase letters and digits in hyphen-separated words, e.g. 'meta-ai'")]
    if error.validator == "uniqueItems" and isinstance(value, list):
        repeated = sorted({json.dumps(v) for v in value if value.count(v) > 1})
        return [(path, f"{', '.join(repeated)} listed more than once")]
    return [(path, error.message)]


@cache
def _selector_problem(selector: str) -> str | None:
    """Why ``selector`` is not a CSS selector soupsieve (BeautifulSoup's ``select``) accepts, or None."""
    import soupsieve  # here: it imports Beautiful Soup, which only catalog checks and the fetch stage need

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. ':contains' is deprecated but still works
        try:
            soupsieve.compile(selector)
        except (soupsieve.SelectorSyntaxError, NotImplementedError, ValueError, TypeError) as exc:
            lines = str(exc).strip().splitlines()
            return lines[0] if lines else type(exc).__name__
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _semantic_problems(data: Any) -> list[tuple[FieldPath, str]]:
    """What JSON Schema cannot check: selectors compile, no page twice in a document, unique document ids."""
    problems: list[tuple[FieldPath, str]] = []
    documents = _as_list(data.get("documents")) if isinstance(data, dict) else []
    types: dict[str, int] = {}  # type -> first document declaring it
    ids: dict[str, tuple[str, int]] = {}  # document id -> (type, first document with that id)
    for i, doc in enumerate(documents):
        if not isinstance(doc, dict):
            continue
        doc_type = doc.get("type")
        if isinstance(doc_type, str) and doc_type:
            doc_id = document_id(doc_type)
            if doc_type in types:
                message = f"document type {doc_type!r} is declared twice (also documents[{types[doc_type]}])"
                problems.append((("documents", i, "type"), message))
            elif doc_id in ids:
                other, j = ids[doc_id]
                message = f"document id {doc_id!r} of {doc_type!r} collides with {other!r} (documents[{j}])"
                problems.append((("documents", i, "type"), message))
            types.setdefault(doc_type, i)
            ids.setdefault(doc_id, (doc_type, i))
        urls: dict[str, int] = {}
        for k, page in enumerate(_as_list(doc.get("pages"))):
            if not isinstance(page, dict):
                continue
            url = page.get("url")
            if isinstance(url, str):
                fetched = url.split("#", 1)[0]  # a #fragment is never sent: same page
                if fetched in urls:
                    message = f"page {url!r} is declared twice in this document (also pages[{urls[fetched]}])"
                    problems.append((("documents", i, "pages", k, "url"), message))
                else:
                    urls[fetched] = k
            for name in ("select", "remove"):
                for n, selector in enumerate(_as_list(page.get(name))):
                    if isinstance(selector, str) and selector:
                        problem = _selector_problem(selector)
                        if problem:
                            where = ("documents", i, "pages", k, name, n)
                            problems.append((where, f"invalid CSS selector {selector!r}: {problem}"))
    return problems


def validate_platform(data: Any, source: str) -> list[str]:
    """Every problem with one platform declaration, as 'source: field: message' lines."""
    problems = [p for error in _validator().iter_errors(data) for p in _schema_problems(error)]
    problems += _semantic_problems(data)
    problems.sort(key=lambda problem: _sort_key(problem[0]))
    return [f"{source}: {_field(path)}: {message}" for path, message in problems]


def _build(data: dict[str, Any]) -> Platform:
    return Platform(
        id=data["id"],
        name=data["name"],
        operator=data["operator"],
        homepage=data.get("homepage"),
        documents=tuple(Document.from_dict({**doc, "platform": data["id"]}) for doc in data["documents"]),
    )


def parse_catalog(declarations: Iterable[tuple[str, Any]]) -> Catalog:
    """Validate (source, declaration) pairs into a Catalog, or raise CatalogError listing every problem."""
    errors: list[str] = []
    platforms: list[Platform] = []
    seen: dict[str, str] = {}
    for source, data in declarations:
        problems = validate_platform(data, source)
        if problems:
            errors.extend(problems)
            continue
        if data["id"] in seen:
            errors.append(f"{source}: id: platform {data['id']!r} is already declared in {seen[data['id']]}")
            continue
        seen[data["id"]] = source
        platforms.append(_build(data))
    if errors:
        raise CatalogError("\n".join(errors))
    return Catalog(tuple(sorted(platforms, key=lambda p: p.id)))


def parse_catalog_json(text: str | bytes, source: str) -> Catalog:
    """Parse a catalog object: ``{"platforms": [declaration, ...]}`` (the override format)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("platforms"), list):
        raise CatalogError(f"{source}: expected an object with a 'platforms' list")
    return parse_catalog((f"{source}#platforms[{i}]", p) for i, p in enumerate(data["platforms"]))


@cache
def load_packaged() -> Catalog:
    """The catalog shipped in the package (``platforms/*.json``)."""
    folder = resources.files(__package__).joinpath("platforms")
    declarations = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            try:
                declarations.append((f"platforms/{entry.name}", json.loads(entry.read_text())))
            except json.JSONDecodeError as exc:
                raise CatalogError(f"platforms/{entry.name}: not valid JSON: {exc}") from None
    return parse_catalog(declarations)
