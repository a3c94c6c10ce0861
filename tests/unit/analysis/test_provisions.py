# Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus/histories).
"""Provision taxonomy on real policy text: what a passage is about, and which way a change moves it.

Every passage comes from a recorded version in the corpus. Where the corpus has no real
before/after pair for a rule, the test takes the real sentence and makes the minimal edit
the rule is about, and says so.
"""

from __future__ import annotations

from functools import cache

import pytest

from policywatch.analysis.blocks import Block, parse
from policywatch.analysis.provisions import Assessment, Finding, taxonomy
from tests.helpers.corpus import CHATGPT, CLAUDE, CORPUS, MIDJOURNEY


@cache
def _blocks(document: str, version: str) -> tuple[Block, ...]:
    path = CORPUS / "histories" / document / "versions" / f"{version}.md"
    if not path.exists():
        pytest.fail(f"corpus version {path} is missing: the tests need ../shared beside the project")
    return tuple(parse(path.read_text()))


def passage(document: str, version: str, phrase: str, kind: str | None = None) -> Block:
    """The first block of a recorded version whose text contains ``phrase`` (with its heading path)."""
    for block in _blocks(document, version):
        if phrase in block.text and (kind is None or block.kind == kind):
            return block
    pytest.fail(f"{document} {version}: no {kind or 'block'} contains {phrase!r}")


def finding(assessment: Assessment, rule: str) -> Finding:
    """The assessment's finding for ``rule`` (the test fails, listing what was found, if there is none)."""
    matches = [f for f in assessment.findings if f.rule == rule]
    found = [(f.rule, f.direction, f.severity) for f in assessment.findings]
    assert len(matches) == 1, f"expected one {rule} finding, got {found}"
    return matches[0]


def judged(before: str, after: str, block: Block, rule: str) -> tuple[str, str]:
    """Direction and severity of ``rule``'s finding when ``block``'s passage goes from ``before`` to ``after``."""
    found = finding(taxonomy().assess(before, after, block.path), rule)
    return found.direction, found.severity


def rules(assessment: Assessment) -> set[str]:
    return {f.rule for f in assessment.findings}


# --- Recognition: one real passage per category -------------------------------------------

# (category, document, version, distinctive phrase of the passage)
RECOGNISED = [
    ("model-training", CLAUDE, "0003", "We may use your Inputs and Outputs to train our models"),
    ("training-opt-out", CHATGPT, "0020", "You can opt out of training through our"),
    ("human-review", CLAUDE, "0003", "Materials flagged for safety, security, or policy review"),
    ("data-retention", CLAUDE, "0003", "Anthropic retains your personal data for as long as reasonably necessary"),
    ("third-party-sharing", CLAUDE, "0003", "Anthropic may disclose the categories of personal data described above with service providers"),
    ("sale-advertising", CHATGPT, "0001", "for cross-contextual behavioral advertising"),
    ("minors", CLAUDE, "0003", "children under the age of 18"),
    ("international-transfers", CLAUDE, "0003", "Standard contractual clauses"),
    ("user-rights", CLAUDE, "0003", "Right to know"),
    ("automated-decisions", CLAUDE, "0003", "Anthropic does not engage in decision making based solely on automated processing"),
    ("output-ownership", MIDJOURNEY, "0021", "You own all Assets You create"),
    ("content-licence", MIDJOURNEY, "0021", "royalty-free, irrevocable copyright license"),
    ("liability", MIDJOURNEY, "0021", "WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND"),
    ("dispute-resolution", MIDJOURNEY, "0021", "will be resolved by binding arbitration rather than in court"),
    ("acceptable-use", MIDJOURNEY, "0021", "You may not use the Services to generate images for political campaigns"),
    ("law-enforcement", CHATGPT, "0020", "with government authorities"),
    ("data-collection", CLAUDE, "0003", "Anthropic collects identifiers"),
    ("sensitive-data", CHATGPT, "0001", "(Sensitive Personal Information)"),
    ("cookies-tracking", CHATGPT, "0001", "We use cookies to operate and administer our Services"),
    ("security", CLAUDE, "0003", "We implement appropriate technical and organizational security measures"),
    ("account-termination", MIDJOURNEY, "0021", "Midjourney reserves the right to suspend or ban Your access"),
    ("policy-changes", CLAUDE, "0003", "Anthropic may update this Privacy Policy from time to time"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("category", "document", "version", "phrase"),
    RECOGNISED,
    ids=[f"{category}:{document}/{version}" for category, document, version, _ in RECOGNISED],
)
def test_real_passage_is_recognised_as_its_category(category, document, version, phrase):
    """A change to this kind of passage is labelled with the matter it is about."""
    block = passage(document, version, phrase)
    assert category in taxonomy().recognise(block.text, block.path), block.text


def test_every_category_has_a_real_passage():
    """Adding a category to the taxonomy without a corpus passage for it fails here."""
    covered = [category for category, *_ in RECOGNISED]
    assert len(covered) == len(set(covered))
    assert set(covered) == set(taxonomy().categories)


def test_passage_without_telling_words_is_recognised_by_its_nearest_heading():
    """A bare list item is labelled by the heading it sits under."""
    block = passage(CLAUDE, "0003", "Publicly available information via the Internet")
    assert block.path.endswith("Personal data we collect or receive to train our models")
    assert taxonomy().recognise(block.text) == []
    assert "model-training" in taxonomy().recognise(block.text, block.path)


# --- Direction and severity ------------------------------------------------------------


def _claude_training_change() -> tuple[Block, Block]:
    before = passage(CLAUDE, "0002", "We will not use your Inputs or Outputs to train our models")
    after = passage(CLAUDE, "0003", "We may use your Inputs and Outputs to train our models")
    return before, after


CLAUDE_TRAINING_RULES = {
    "trains-on-user-content",
    "no-training-on-user-content",
    "exception-survives-opt-out",
    "opt-in-required",
}


def test_claude_switch_to_training_on_conversations_is_worse_and_high():
    """Claude.ai 2025-08-16 -> 2025-08-29: training on your chats by default is alerted as a high, worse change."""
    before, after = _claude_training_change()
    assessment = taxonomy().assess(before.text, after.text, after.path)

    for rule in ("trains-on-user-content", "no-training-on-user-content", "exception-survives-opt-out"):
        assert (finding(assessment, rule).direction, finding(assessment, rule).severity) == ("worse", "high"), rule
    assert finding(assessment, "opt-in-required").direction == "worse"
    assert {f.rule for f in assessment.findings if f.direction == "worse"} == CLAUDE_TRAINING_RULES
    assert (assessment.severity, assessment.direction) == ("high", "worse")
    assert {"model-training", "training-opt-out", "human-review"} <= set(assessment.categories)


def test_claude_training_change_reversed_flips_each_rule_to_an_improvement():
    """Going back to the 2025-08-16 wording records each training rule as an improvement of low severity."""
    before, after = _claude_training_change()
    assessment = taxonomy().assess(after.text, before.text, before.path)
    for rule in CLAUDE_TRAINING_RULES:
        assert (finding(assessment, rule).direction, finding(assessment, rule).severity) == ("better", "low"), rule


def test_claude_training_change_reversed_is_an_improvement_overall():
    """Replacing 'train unless you opt out' with 'no training unless you opt in' is alerted as an improvement."""
    before, after = _claude_training_change()
    assessment = taxonomy().assess(after.text, before.text, before.path)
    assert (assessment.direction, assessment.severity) == ("better", "low"), [
        (f.rule, f.direction, f.severity) for f in assessment.findings
    ]


def test_retention_extended_is_worse_and_shortened_is_better():
    """A longer retention period is alerted as high and names both periods; a shorter one is an improvement."""
    # Minimal edit of the real sentence (ChatGPT 0020): the corpus has no real change of a retention period.
    block = passage(CHATGPT, "0020", "will be automatically deleted within 30 days")
    longer = block.text.replace("within 30 days", "within 90 days")

    extended = finding(taxonomy().assess(block.text, longer, block.path), "retention-period")
    assert (extended.direction, extended.severity) == ("worse", "high")
    # The periods are quoted in the policy's own words.
    assert extended.says == "extends retention (30 days \u2192 90 days)"
    assert "30 days" in extended.before and "90 days" in extended.after

    shortened = finding(taxonomy().assess(longer, block.text, block.path), "retention-period")
    assert (shortened.direction, shortened.severity) == ("better", "low")
    assert shortened.says == "shortens retention (90 days \u2192 30 days)"


def test_claude_back_end_deletion_window_extended_is_worse():
    """Claude's 'automatically deleted from our back-end within 30 days' lengthened is alerted as longer retention."""
    # Minimal edit of the real Deletion item (Claude 0003, under "4. Rights and Choices"): 30 -> 90 days.
    block = passage(CLAUDE, "0003", "automatically deleted from our back-end within 30 days")
    longer = block.text.replace("within 30 days", "within 90 days")
    assert judged(block.text, longer, block, "retention-period") == ("worse", "high")


def test_data_kept_indefinitely_is_worse_and_high():
    """A policy that starts keeping data indefinitely is alerted as high."""
    # Minimal edit of the real sentence (Claude 0003): "for as long as reasonably necessary" -> "indefinitely".
    block = passage(CLAUDE, "0003", "Anthropic retains your personal data for as long as reasonably necessary")
    forever = block.text.replace("for as long as reasonably necessary", "indefinitely")

    assert judged(block.text, forever, block, "retained-indefinitely") == ("worse", "high")
    assert judged(forever, block.text, block, "retained-indefinitely") == ("better", "low")


def test_chatgpt_temporary_chats_kept_indefinitely_is_worse():
    """ChatGPT's temporary chats 'kept up to 30 days' becoming 'kept indefinitely' is alerted as high."""
    # Minimal edit of the real sentence (ChatGPT 0007): "up to 30 days" -> "indefinitely".
    block = passage(CHATGPT, "0007", "will be kept up to 30 days for safety purposes")
    forever = block.text.replace("kept up to 30 days", "kept indefinitely")
    assert judged(block.text, forever, block, "retained-indefinitely") == ("worse", "high")


def test_new_disclosure_recipient_widens_sharing_and_dropping_it_narrows_it():
    """A recipient added to a 'How We Disclose' list is alerted as wider sharing; removing it is an improvement."""
    # Real addition: this item first appears in Claude 0007 (the Non-User Privacy Policy's disclosure list).
    item = passage(CLAUDE, "0007", "Anthropic may disclose personal data with service providers and business partners")
    assert item.kind == "item" and item.path.endswith("How We Disclose Personal Data")

    added = taxonomy().assess("", item.text, item.path)
    widened = finding(added, "shares-with-third-parties")
    assert (widened.direction, widened.severity) == ("worse", "high")
    assert "third-party-sharing" in added.categories

    assert judged(item.text, "", item, "shares-with-third-parties") == ("better", "low")


def test_dropping_the_do_not_sell_promise_is_worse_and_high():
    """Removing 'we don't sell or share for behavioral advertising' is alerted as high."""
    # Real removal: the U.S. section holding this paragraph is gone from ChatGPT 0002.
    block = passage(CHATGPT, "0001", "We don\u2019t \u201csell\u201d Personal Information")
    assert judged(block.text, "", block, "no-sale") == ("worse", "high")
    assert "sells-or-targets" not in rules(taxonomy().assess(block.text, "", block.path))

    assert judged("", block.text, block, "no-sale") == ("better", "low")


def test_minimum_age_lowered_is_worse_and_raised_is_better():
    """Lowering the minimum age is alerted as high and names both ages; raising it is an improvement."""
    # Minimal edit of the real Children paragraph (Claude 0003): 18 -> 13 in both places it is stated.
    block = passage(CLAUDE, "0003", "children under the age of 18")
    younger = block.text.replace("under the age of 18", "under the age of 13")

    lowered = finding(taxonomy().assess(block.text, younger, block.path), "age-limit")
    assert (lowered.direction, lowered.severity) == ("worse", "high")
    assert lowered.says == "lowers the minimum age (18 \u2192 13)"

    assert judged(younger, block.text, block, "age-limit") == ("better", "low")


def test_chatgpt_minimum_age_lowered_beside_a_parental_permission_age_is_worse():
    """ChatGPT's minimum age lowered from 13 is alerted even though the paragraph also mentions 18."""
    # Minimal edit of the real Children paragraph (ChatGPT 0020): "under 13" -> "under 10" (three places).
    block = passage(CHATGPT, "0020", "Our Services are not directed to, or intended for, children under 13")
    younger = block.text.replace("under 13", "under 10")
    assert judged(block.text, younger, block, "age-limit") == ("worse", "high")


def test_new_safety_review_of_conversations_is_worse_and_medium():
    """Content newly flagged for human or safety review is alerted as medium."""
    # Real addition: Claude 2025-08-16 -> 2025-08-29 (0002 -> 0003) added this item.
    item = passage(CLAUDE, "0003", "Materials flagged for safety, security, or policy review")
    assert judged("", item.text, item, "humans-review-content") == ("worse", "medium")


def test_removed_user_right_is_worse_and_medium():
    """A user right that disappears from the policy is alerted as medium."""
    # Real removal: ChatGPT 0001 -> 0002 dropped the U.S. "right to know" item.
    item = passage(CHATGPT, "0001", "The right to know information about our processing")
    assert judged(item.text, "", item, "right-offered") == ("worse", "medium")


def test_binding_arbitration_added_is_worse_and_medium():
    """Terms that start sending disputes to binding arbitration are alerted as medium."""
    # Real sentence of Midjourney 0002; minimal edit for the "before": the dispute goes to court instead.
    # (Midjourney already required arbitration in 0001, so the corpus has no real pair for this rule.)
    block = passage(MIDJOURNEY, "0002", "will be resolved by binding arbitration rather than in court")
    sentence = block.text.split("**")[1]
    assert sentence.endswith("the Dispute will be resolved by binding arbitration rather than in court.")
    in_court = sentence.replace("by binding arbitration rather than in court", "in court")

    assert judged(in_court, sentence, block, "arbitration-required") == ("worse", "medium")
    assert judged(sentence, in_court, block, "arbitration-required") == ("better", "low")


def test_negation_counts_only_within_its_own_clause():
    """'If you do not opt out, we will train' permits training; 'We do not ... train' promises not to."""
    permits = taxonomy().assess(
        "", "If you do not opt out, we will use your content to train our models.", "Privacy Policy"
    )
    assert finding(permits, "trains-on-user-content").direction == "worse"
    assert "no-training-on-user-content" not in rules(permits)

    promises = taxonomy().assess("", "We do not use your content to train our models.", "Privacy Policy")
    assert finding(promises, "no-training-on-user-content").direction == "better"
    assert "trains-on-user-content" not in rules(promises)


def test_renamed_heading_has_categories_but_no_direction():
    """A renamed section heading is labelled, but what it announces is judged in the passages below it."""
    # Real rename: ChatGPT 0001 -> 0002.
    old = passage(CHATGPT, "0001", "Disclosure of personal information", kind="heading")
    new = passage(CHATGPT, "0002", "Disclosure of Personal Data", kind="heading")
    assessment = taxonomy().assess(old.text, new.text, new.path, kind="heading")
    assert assessment.categories == ["third-party-sharing"]
    assert assessment.findings == []
    assert assessment.direction == "neutral"


def test_passage_about_no_provision_is_low_with_no_categories():
    """A change that touches no provision is not labelled and stays low."""
    # Real addition: Claude 0002 -> 0003 added this note.
    note = passage(CLAUDE, "0003", "Note: This policy is effective on September 28, 2025")
    assessment = taxonomy().assess("", note.text, note.path)
    assert assessment.categories == []
    assert assessment.findings == []
    assert assessment.severity == "low"


@pytest.mark.timeout(30)  # before: over 60 s (each term re-read the 840 KB sentence up to itself)
def test_a_long_sentence_with_many_terms_is_assessed_in_linear_time():
    text = "we do not " + "share data and train models with partners " * 20_000  # one 840 KB sentence
    assessment = taxonomy().assess("", text, "Privacy Policy > Sharing")
    assert assessment.categories  # read, not skipped
