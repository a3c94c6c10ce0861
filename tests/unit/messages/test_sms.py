"""SMS segments: GSM-7 with its extension characters, UCS-2 for anything else, a surrogate pair never split."""

from __future__ import annotations

import pytest

from policywatch.messages.sms import segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("a" * 159 + "^", 2),
        ("{}[]~|\\", 1),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà", 1),
        ("a" * 69 + "ç", 1),
        ("a" * 70 + "ç", 2),  # lower-case c-cedilla is not GSM-7: the whole message turns UCS-2
        ("中" * 70, 1),
        ("中" * 71, 2),
        ("中" * 134, 2),
        ("中" * 135, 3),
        ("a" * 100 + "😀", 2),  # one emoji makes 101 characters UCS-2
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
        ("😀" * 67, 3),  # 33 pairs a segment: a pair is never split
    ],
)
def test_segments(text, expected):
    assert segments(text) == expected
