"""Hypothesis strategies and settings shared by the property tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The extraction properties: examples few enough for the suite to stay fast (the timeouts are the "never a hang").
PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Markdown-ish policy versions for the diff and the analysis: headings, dates, lists, tables,
# links, labels and repeated blocks, in any order.
_LINES = [
    "# Privacy Policy",
    "## 2. Sharing",
    "We share data with partners.",
    "We never share data.",
    "We may share your data with advertisers and partners.",
    "Effective March 3, 2025.",
    "Effective April 1, 2026.",
    "- [Sharing](#sharing)",
    "- We keep data for 30 days.",
    "- We keep data for 90 days.",
    "* We keep data for **30** days.",
    "| Data | Purpose |",
    "|---|---|",
    "English",
    "See [our terms](https://x.test/terms?utm_source=a).",
    "See [our terms](https://x.test/terms-2).",
    "Yes.",
    "Yes.",
    "We train our models on your content unless you opt out.",
]
policy_versions = st.lists(st.sampled_from(_LINES), max_size=25).map("\n\n".join)
