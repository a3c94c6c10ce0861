"""The operator's files: a binary or non-UTF-8 file given to `diff` or `catalog use|check` is one line
naming the file and what is wrong with it, never a traceback."""

from __future__ import annotations

import json

import pytest

from policywatch_cli.main import main
from tests.helpers.corpus import claude_text

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
LATIN_1 = "Politique de confidentialité\n\nNous conservez vos données.\n".encode("latin-1")


@pytest.fixture
def files(tmp_path):
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "logo.md").write_bytes(PNG)  # an image by another name
    (tmp_path / "logo.html").write_bytes(PNG)
    (tmp_path / "logo.pdf").write_bytes(PNG)
    (tmp_path / "nul.txt").write_bytes(b"Privacy policy\x00\x00")
    (tmp_path / "policy-latin1.md").write_bytes(LATIN_1)
    (tmp_path / "catalog-latin1.json").write_bytes(b'{"platforms": [{"id": "caf\xe9"}]}')
    (tmp_path / "policy.md").write_text(claude_text("2025-08-28"))
    return tmp_path


def error(capsys, *argv: str) -> str:
    assert main(list(argv)) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    return captured.err.removeprefix("policywatch: error: ").rstrip("\n")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("logo.png", "binary data, not text (a PNG image)"),
        ("logo.md", "binary data, not text (a PNG image)"),
        ("logo.html", "binary data, not HTML (a PNG image)"),
        ("logo.pdf", "binary data, not a PDF (a PNG image)"),
        ("nul.txt", "binary data, not text (a NUL byte at offset 14)"),
        ("policy-latin1.md", "not UTF-8 text (byte 0xe9 on line 1, offset 27): save or convert it as UTF-8"),
    ],
)
def test_diff_names_a_file_that_is_not_text(files, capsys, name, message):
    assert error(capsys, "diff", str(files / name), str(files / "policy.md")) == f"{files / name}: {message}"
    assert error(capsys, "diff", str(files / "policy.md"), str(files / name)) == f"{files / name}: {message}"


@pytest.mark.parametrize("action", [["catalog", "use"], ["catalog", "check", "--file"]])
def test_a_catalog_file_that_is_not_utf8_text_is_named_before_any_stack_is_asked(files, capsys, action):
    """`catalog use` reads and checks the file first: no AWS is configured here, and none is needed."""
    assert (
        error(capsys, *action, str(files / "logo.png")) == f"{files / 'logo.png'}: binary data, not text (a PNG image)"
    )
    assert error(capsys, *action, str(files / "catalog-latin1.json")) == (
        f"{files / 'catalog-latin1.json'}: not UTF-8 text (byte 0xe9 on line 1, offset 26): save or convert it as UTF-8"
    )


def test_a_utf8_file_with_a_byte_order_mark_is_text(files, capsys):
    catalog = files / "catalog-bom.json"
    catalog.write_bytes(b"\xef\xbb\xbf" + json.dumps({"platforms": []}).encode())
    assert main(["catalog", "check", "--file", str(catalog)]) == 0
    assert capsys.readouterr().out.startswith("ok: 0 platforms")
