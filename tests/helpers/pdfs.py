"""Valid PDF bytes for tests, written by hand (no PDF library needed to make them).

``pdf(["Line one", "Line two", "", "Next paragraph"], ["Page two"])`` is a two-page PDF:
each argument is a page, each string a line of 12 pt Helvetica; an empty string leaves a
blank line, which reads as a paragraph break. A page with no lines has no text at all
(as a scanned page would), only a drawn rectangle.

Hostile shapes for the extraction budgets: ``shared_stream_pdf`` (many pages drawing one
content stream: a small file, a lot of work) and ``form_pdf`` (a page drawing one form
XObject many times).
"""

from __future__ import annotations

from collections.abc import Sequence

_LEADING = 14  # points between baselines


def _literal(text: str) -> bytes:
    raw = text.encode("cp1252")  # WinAnsiEncoding, near enough for tests
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _content(lines: Sequence[str]) -> bytes:
    if not lines:
        return b"0.5 g 72 600 200 100 re f\n"
    ops = [b"BT", b"/F1 12 Tf", f"{_LEADING} TL".encode(), b"72 740 Td"]
    for i, line in enumerate(lines):
        if i:
            ops.append(b"T*")
        if line:
            ops.append(_literal(line) + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def pdf(*pages: Sequence[str]) -> bytes:
    """A PDF with one page per argument; each page is a sequence of text lines."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    doc = _Document()
    kids = []
    for lines in pages:
        content = doc.stream(_content(lines))
        kids.append(doc.add(doc.page(b"/Contents %d 0 R" % content)))
    return doc.write(kids)


def shared_stream_pdf(page_count: int, stream: bytes) -> bytes:
    """``page_count`` pages that all draw the one content ``stream`` (stored once)."""
    doc = _Document()
    content = doc.stream(stream)
    page = doc.page(b"/Contents %d 0 R" % content)
    return doc.write([doc.add(page) for _ in range(page_count)])


def form_pdf(invocations: int, lines: Sequence[str]) -> bytes:
    """One page drawing, ``invocations`` times, a form XObject that shows ``lines``."""
    doc = _Document()
    form = doc.stream(
        _content(lines),
        b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >>" % doc.font,
    )
    content = doc.stream(b"/X1 Do\n" * invocations)
    page = doc.page(b"/Contents %d 0 R" % content, b"/XObject << /X1 %d 0 R >>" % form)
    return doc.write([doc.add(page)])


def text_stream(lines: Sequence[str]) -> bytes:
    """The content stream that shows ``lines`` (what ``pdf`` puts on a page)."""
    return _content(lines)


class _Document:
    """Objects of a PDF being written; object n is ``objects[n - 1]``."""

    def __init__(self) -> None:
        self.objects: list[bytes] = [b"", b""]  # the catalog and the page tree, filled in by write()
        self.font = self.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def stream(self, data: bytes, entries: bytes = b"") -> int:
        return self.add(b"<< %s /Length %d >>\nstream\n" % (entries, len(data)) + data + b"endstream")

    def page(self, contents: bytes, resources: bytes = b"") -> bytes:
        return (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            + b"/Resources << /Font << /F1 %d 0 R >> %s >> %s >>" % (self.font, resources, contents)
        )

    def write(self, kids: list[int]) -> bytes:
        self.objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
        self.objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
            b" ".join(b"%d 0 R" % k for k in kids),
            len(kids),
        )
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(self.objects) + 1, xref)
        return bytes(out)
