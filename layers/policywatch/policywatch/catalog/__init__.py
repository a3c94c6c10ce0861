"""What policywatch tracks: platforms and their documents, as validated data files.

The packaged declarations live in ``platforms/*.json`` (one per platform). An operator can
override the whole catalog without redeploying by putting a catalog object in the archive
bucket (see ``policywatch.archive.CATALOG_KEY``); the sweep prefers it when present.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

__all__ = [
    "Catalog",
    "CatalogError",
    "Document",
    "Page",
    "Platform",
    "document_id",
    "load_packaged",
    "parse_catalog",
]


class CatalogError(ValueError):
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
    render: str = "http"

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
            pages=tuple(Page(p["url"], tuple(p["select"]), tuple(p.get("remove", ()))) for p in data["pages"]),
        )


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    operator: str
    documents: tuple[Document, ...] = field(default_factory=tuple)


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


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files(__package__).joinpath("schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def _field_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def validate_platform(data: Any, source: str) -> list[str]:
    """Every problem with one platform declaration, as 'source: field: message' lines."""
    errors = [
        f"{source}: {_field_path(e)}: {e.message}"
        for e in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    ]
    if not errors:
        types = [d["type"] for d in data["documents"]]
        for dup in sorted({t for t in types if types.count(t) > 1}):
            errors.append(f"{source}: documents: document type {dup!r} is declared twice")
    return errors


def _build(data: dict[str, Any]) -> Platform:
    return Platform(
        id=data["id"],
        name=data["name"],
        operator=data["operator"],
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
