"""`policywatch diff` and `policywatch replay`: the analysis from the command line, no stack needed.

Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0.
"""

import json

from policywatch_cli.main import main
from tests.helpers.corpus import CORPUS, HISTORIES


def test_diff_of_two_real_snapshots_extracts_them_as_the_pipeline_does(capsys):
    pages = CORPUS / "snapshots/claude-ai/privacy-policy"
    assert main(["diff", "--select", "main", str(pages / "2025-08-28.html"), str(pages / "2025-08-29.html")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("substantive \u00b7 severity high \u00b7 worse \u00b7 ALERT\n")
    assert "Effective date stated in the new text: 2025-09-28 (changed)" in out
    assert "- We will not use your Inputs or Outputs to train our models" in out
    assert "+ We may use your Inputs and Outputs to train our models" in out
    assert "engages (high exposure): GDPR Art. 6(1)(f)" in out


def test_diff_json_of_markdown_files(tmp_path, capsys):
    old = HISTORIES / "claude-ai-privacy-policy/versions/0042.md"
    new = HISTORIES / "claude-ai-privacy-policy/versions/0043.md"
    assert main(["diff", "--json", str(old), str(new)]) == 0
    analysis = json.loads(capsys.readouterr().out)
    assert analysis["kind"] == "substantive" and analysis["effective_date"] == "2025-10-08"
    assert analysis["noise"] == {"date": 2}


def test_diff_names_the_file_whose_selector_matched_nothing(capsys):
    page = CORPUS / "snapshots/le-chat/privacy-policy/2026-08-21.html"
    assert main(["diff", "--select", "main article", str(page), str(page)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"policywatch: error: {page}: selector-matched-nothing:")
    assert "Traceback" not in err


def test_replay_json_lines(capsys):
    assert main(["replay", "--json", str(HISTORIES / "midjourney-terms-of-service")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 21
    assert {"seq", "alert", "kind", "severity", "categories", "summary"} <= set(lines[0])
    # 9 before issue 13: seq 20 only changed takedown@ to takedowns@, and which address, like which
    # link target, is not a change of the words (text.plain: canonical words).
    assert sum(line["alert"] for line in lines) == 8


def test_replay_of_a_folder_that_is_not_a_history(tmp_path, capsys):
    assert main(["replay", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"policywatch: error: {tmp_path}: index.json not found (a history has index.json and its version files)\n"
    )


def test_diff_of_pdf_versions_goes_through_the_pipelines_pdf_extraction(tmp_path, capsys):
    """A PDF policy compares like any other: its text is extracted the way the fetch stage does it."""
    from tests.helpers.pdfs import pdf

    lines = [
        "Privacy Policy",
        "We collect personal data you provide when you use the services and agree to these terms.",
        "We will not use your conversations to train our models.",
        "You may exercise your rights to access and delete personal data under applicable law.",
        "We retain personal data for as long as necessary and disclose it to service providers.",
    ] * 3
    old, new = tmp_path / "old.pdf", tmp_path / "new.pdf"
    old.write_bytes(pdf(lines))
    new.write_bytes(pdf([line.replace("will not use", "may use") for line in lines]))
    assert main(["diff", "--json", str(old), str(new)]) == 0
    analysis = json.loads(capsys.readouterr().out)
    assert analysis["kind"] == "substantive" and analysis["severity"] == "high"
    assert "model-training" in analysis["categories"]


def test_diff_of_a_missing_file_is_one_line(capsys):
    assert main(["diff", "/nonexistent/old.html", "/nonexistent/new.html"]) == 1
    assert (
        capsys.readouterr().err == "policywatch: error: cannot read /nonexistent/old.html: No such file or directory\n"
    )
