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
    ("fees-limits", MIDJOURNEY, "0021", "including pricing and features, at any time"),
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


# --- Categories by their subject, direction by who is bound (issue 13, pattern 8) ---------
# Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus/genai-contrib.bundle):
# each passage below is quoted from the recorded version named beside it, a sentence or two.


def test_arbitration_opt_out_is_not_the_training_opt_out():
    """The arbitration opt-out dropped is a dispute-resolution change, not a narrower training opt-out."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Speechify Terms of Service #6; gone in #7).
    opt_out = (
        "(f) Opt-out. YOU MAY OPT-OUT OF THIS ARBITRATION AGREEMENT. If you do so, neither you nor Speechify can "
        "force the other to arbitrate. To opt-out, you must notify Speechify in writing no later than 30 days after "
        "first becoming subject to this arbitration agreement."
    )
    dropped = taxonomy().assess(opt_out, "", "Terms & Conditions")
    assert "training-opt-out" not in dropped.categories
    assert finding(dropped, "arbitration-opt-out").direction == "worse"
    assert not {"opt-out-available", "opt-in-required", "exception-survives-opt-out"} & rules(dropped)


def test_opting_out_of_marketing_messages_is_not_the_training_opt_out():
    """An objection right with a marketing opt-out is a user right, whatever its words "opt out"."""
    item = passage(CLAUDE, "0003", "opt out of future direct marketing messages")
    assert "training-opt-out" not in taxonomy().recognise(item.text, item.path)
    assert "training-opt-out" not in taxonomy().assess("", item.text, item.path).categories


def test_restriction_on_building_competing_models_is_not_model_training():
    """ "Use Output to develop models that compete" restricts the customer: no model-training finding, never high."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (OpenAI Terms of Service #2, under
    # "What You Cannot Do ... you may not:").
    item = "* Use Output to develop models that compete with OpenAI."
    added = taxonomy().assess("", item, "Terms of use > Using Our Services")
    assert "model-training" not in added.categories
    assert not {"trains-on-user-content", "no-training-on-user-content"} & rules(added)
    assert added.severity != "high"


def test_lifting_a_restriction_on_the_customer_is_not_worse():
    """A customer's obligation not to build competing models, dropped, lifts a restriction: better, low."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Mistral AI Terms of Service #1,
    # "7. Your obligations"; dropped from that list in #2). Before: "drops the promise not to train", high.
    item = "* Not use Outputs to develop model(s) that compete with Mistral AI and/or to reverse-engineer Our Services."
    lifted = taxonomy().assess(item, "", "7. Your obligations")
    assert "no-training-on-user-content" not in rules(lifted)
    assert (lifted.direction, lifted.severity) == ("better", "low")
    assert finding(lifted, "restricts-user").says == "lifts a restriction on what you may do"


def test_a_restriction_on_the_user_dropped_is_not_a_dropped_promise():
    """ "You may not ... share ... with third parties" binds the user: dropping it is no dropped promise not to share."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (ChatGPT Platform to Business Notice #10; gone in #11).
    rule_for_you = (
        "You may not make account access credentials available to third parties, share individual login credentials "
        "between multiple users on an account, or resell or lease access to your account or any End User Account."
    )
    dropped = taxonomy().assess(rule_for_you, "", "Business terms")
    assert not {"no-sharing", "shares-with-third-parties"} & rules(dropped)
    assert "third-party-sharing" not in dropped.categories
    assert dropped.severity != "high"


def test_items_under_a_restrictions_heading_bind_the_user():
    """Subject-less items under "License Restrictions" are the customer's: no sharing, sale or training finding."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Lovable Terms of Service #40, "License
    # Restrictions"; the engine rated this version high: "now allows selling data", "widens sharing").
    items = [
        "copy, modify, distribute, sell, lease, sublicense, or otherwise exploit the Services or Lovable Materials "
        "except as expressly permitted in these Terms;",
        "resell, provide, or make the Services available to any third party on a service bureau or time-sharing basis;",
        "use the Services, AI Output, or prompts to train, develop, or improve competing AI models.",
    ]
    platform = {"sells-or-targets", "no-sale", "shares-with-third-parties", "no-sharing", "trains-on-user-content"}
    for item in items:
        added = taxonomy().assess("", item, "License Restrictions")
        assert not platform & rules(added), item
        assert added.severity != "high", item
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Berget AI Terms of Service #6 -> #7,
    # "15. Use Restrictions"): the resale ban now allows signed resellers. Before: "widens sharing", high.
    ban = "(v) use, sell, rent, transfer, license or otherwise provide anybody with the Service, except as provided herein"
    eased = ban + " - unless explicitly having signed a partner reseller agreement with Berget AI AB"
    assessment = taxonomy().assess(ban, eased, "Terms of Service > 15. Use Restrictions")
    assert not platform & rules(assessment)
    assert assessment.severity == "low"


def test_a_promise_by_the_platform_dropped_is_worse_and_high():
    """ "xAI shall not use any User Content for ... training" binds the platform: dropping it is worse, high."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Grok Commercial Terms #5; gone in #6).
    promise = (
        "For clarity, subject to Section 3.2, xAI shall not use any User Content for any of its internal AI or other "
        "training purposes (such as training its machine learning models), including developing new products or "
        "services based on User Content."
    )
    assert judged(promise, "", Block("paragraph", promise, "Commercial Terms"), "no-training-on-user-content") == (
        "worse",
        "high",
    )


def test_a_new_restriction_on_what_the_platform_does_with_data_is_better():
    """ "We prohibit the sale of ... user data" is a promise not to sell: better, never "now allows selling"."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Murf Privacy Policy #4 added it). Before: high.
    promise = "Please note that we prohibit the sale of Google user data to third-parties."
    added = taxonomy().assess("", promise, "Privacy Policy")
    assert finding(added, "no-sale").direction == "better"
    assert "sells-or-targets" not in rules(added)
    assert (added.direction, added.severity) == ("better", "low")


def test_a_passage_never_says_both_that_it_widens_sharing_and_promises_not_to_share():
    """A promise not to sell or share is not also "widens sharing" (nor "now allows selling")."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Codeium Privacy Policy #17 added it).
    codeium = (
        "We do not sell or share your personal information with third parties for targeted advertising purposes, nor "
        "have we done so in the past 12 months."
    )
    added = taxonomy().assess("", codeium, "Privacy Policy")
    assert "shares-with-third-parties" not in rules(added)
    assert finding(added, "no-sharing").direction == "better"

    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Lovable Privacy Policy #4 added it, #30 dropped it).
    lovable = (
        "Opt-out of sales, sharing, or targeted advertising: Opt out of the sale or sharing of personal information. "
        "Lovable does not sell or share personal information as defined under U.S. privacy laws."
    )
    for before, after in (("", lovable), (lovable, "")):
        says = {(f.rule, f.direction) for f in taxonomy().assess(before, after, "Privacy Policy").findings}
        assert not ({("sells-or-targets", "worse"), ("no-sale", "better")} <= says), says
        assert not ({("sells-or-targets", "better"), ("no-sale", "worse")} <= says), says
    # Dropped, the promise goes with it: the worse finding is the one stated.
    dropped = taxonomy().assess(lovable, "", "Privacy Policy")
    assert finding(dropped, "no-sale").direction == "worse"
    assert "sells-or-targets" not in rules(dropped)


def test_a_category_over_a_whole_change_never_says_both_that_it_widens_sharing_and_promises_not_to():
    """Claude 2025-09-01 added the Non-User Privacy Policy: one passage widens sharing, another promises not to
    share. Over the change, the category says the worse ("widens sharing"), not also "now promises not to share"."""
    from policywatch.analysis.assess import analyse
    from tests.helpers.corpus import history_version

    result = analyse(history_version(CLAUDE, 6), history_version(CLAUDE, 7))
    for category in ("third-party-sharing", "model-training"):
        findings = [f for a in result.assessments.values() for f in a.findings if f.category == category]
        assert {f.direction for f in findings} == {"worse", "better"}  # passages moved both ways
        said = taxonomy().reconcile(findings, whole_change=True)
        assert {f.direction for f in said} == {"worse"}, [(f.rule, f.direction) for f in said]
        assert {f.rule for f in said if f.direction == "worse"} == {f.rule for f in findings if f.direction == "worse"}


def test_new_monthly_usage_cap_is_a_fee_and_limit_change_for_the_worse():
    """A new cap of 150,000 words a month on Premium voices: fees and limits, worse, medium (was low, no category)."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Speechify Terms of Service #4; gone in #3).
    cap = (
        "6.3 Speechify may limit the availability of Premium voices for users who listens to more than 150,000 words "
        "with Premium voices per month. For users who do reach this limit, their access to these voices will renew "
        "the following month of subscription."
    )
    added = taxonomy().assess("", cap, "Terms & Conditions")
    assert "fees-limits" in added.categories
    assert (finding(added, "usage-capped").direction, added.severity) == ("worse", "medium")
    removed = taxonomy().assess(cap, "", "Terms & Conditions")
    assert (finding(removed, "usage-capped").direction, removed.severity) == ("better", "low")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Replicate Terms of Service #8).
        ("(v) Each payment to fund the Prepaid Balance will expire at the end of twelfth (12th) month after the date "
         "of payment if not fully used. Upon expiration, any unused amounts will be forfeited.", "credits-forfeited"),
        ("(viii) All Prepaid Balances are non-refundable, except as otherwise required by law or as expressly set "
         "forth in this Agreement.", "non-refundable"),
        # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Lovable Terms of Service #4).
        ("If your account/Services are terminated by us for a breach of the Terms by you, any remaining Credits (Free "
         "or Paid) will be forfeited.", "credits-forfeited"),
    ],
    ids=["replicate-prepaid-expires", "replicate-non-refundable", "lovable-credits-forfeited"],
)  # fmt: skip
def test_credits_forfeited_or_non_refundable_are_worse_and_medium(text, rule):
    added = taxonomy().assess("", text, "Terms of Service")
    assert "fees-limits" in added.categories
    assert (finding(added, rule).direction, finding(added, rule).severity) == ("worse", "medium")


def test_refund_of_credits_with_fees_made_non_refundable_states_the_worse_finding_only():
    """ "Credits refunded; platform fees non-refundable": the refund is not also stated as an improvement."""
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (OpenRouter Terms of Service #6 added it).
    text = "The unused credit amount will be refunded to your payment method; the platform fees are non-refundable."
    added = taxonomy().assess("", text, "Terms of Service")
    assert finding(added, "non-refundable").direction == "worse"
    assert "refund-offered" not in rules(added)
    assert added.severity == "medium"


def test_price_changes_at_will_added_to_midjourney_terms_are_worse():
    """Midjourney 0008 -> 0009 reserved the right to change pricing at any time: fees and limits, worse."""
    before = passage(MIDJOURNEY, "0008", "You are free to cancel Your plan at any time")
    after = passage(MIDJOURNEY, "0009", "including pricing and features, at any time")
    assert judged(before.text, after.text, after, "price-changes") == ("worse", "medium")


def test_patterns_led_by_their_first_characters_find_the_same_matches():
    """``compile_fast`` (a look-ahead for the characters a match can start with) changes speed, not matches."""
    import json
    import re
    from importlib import resources

    from policywatch.analysis.provisions.patterns import compile_fast, first_characters

    data = json.loads((resources.files("policywatch.analysis") / "data" / "provisions.json").read_text())
    texts = [" ".join(block.text.lower() for block in _blocks(d, v)) for d, v in ((CLAUDE, "0003"), (CHATGPT, "0020"),
             (MIDJOURNEY, "0021"))]  # fmt: skip
    for name, pattern in data["terms"].items():
        plain, fast = re.compile(pattern), compile_fast(pattern)
        for text in texts:
            assert [m.span() for m in plain.finditer(text)] == [m.span() for m in fast.finditer(text)], name
    assert first_characters(r"\b(refund|money back)\b") == {"r", "m"}
    assert first_characters(r"(?<!non-)\brefund") == {"r"}
    assert first_characters(r"\b\d+ days") is None  # "\d" is any digit, not only 0-9
    assert first_characters(r"(a|b)?c") == {"a", "b", "c"}
    assert first_characters(r"x*") is None  # may match the empty string anywhere
