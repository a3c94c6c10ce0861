"""A document's text from its fetched pages, exactly as the pipeline extracts it (the archivist,
``reextract`` and ``policywatch diff`` alike), and what it was extracted with."""

from __future__ import annotations

import hashlib
import json

from policywatch.catalog import Document, Page
from policywatch.fetch.extraction.checks import EXTRACTOR_VERSION, ExtractionError


def declaration_hash(document: Document) -> str:
    """Identifies what the stored validators and fingerprint were extracted with."""
    declared = {"document": document.to_dict(), "extractor": EXTRACTOR_VERSION}
    return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()[:16]


def page_text(
    page: Page,
    body: bytes,
    content_type: str,
    base_url: str,
    filters: tuple[str, ...] = (),
    deadline: float | None = None,
) -> str:
    """The Markdown of one fetched page, exactly as the pipeline extracts it (``reextract`` too),
    within the extraction budgets (docs/extraction.md) and ``deadline`` (``time.monotonic()``)."""
    if content_type == "application/pdf":
        from policywatch.fetch.extraction.pdf import pdf_to_markdown  # here: pypdf only for PDF documents

        return pdf_to_markdown(body, deadline=deadline)
    from policywatch.fetch.extraction.html import html_to_markdown  # here: the parsers only when a page changed

    return html_to_markdown(body, page.select, page.remove, base_url=base_url, filters=filters, deadline=deadline)


def document_text(document: Document, pages: list[tuple[bytes, str, str]], *, deadline: float | None = None) -> str:
    """The pages' Markdown, in the declared order; ``pages`` are (body, content type, URL)."""
    if len(pages) != len(document.pages):
        raise ExtractionError(
            "pages-mismatch", f"the declaration has {len(document.pages)} pages, {len(pages)} were given"
        )
    texts = [
        page_text(page, body, content_type, url, document.filters, deadline).strip()
        for page, (body, content_type, url) in zip(document.pages, pages, strict=True)
    ]
    return "\n\n".join(texts) + "\n"
