"""Email through SES: one MIME message per recipient, text and HTML alternatives, one-click unsubscribe.

``send_raw_email`` rather than ``send_email``: only a raw message can carry the
``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers (RFC 8058) that mailbox providers
require of bulk senders and show as an unsubscribe button, and an alert's
``X-Policywatch-Change`` (its change id: what ``policywatch deliveries`` and support ask for).

The subject carries policy text (a new section's heading, in the summary). The ``email``
package decodes any RFC 2047 encoded word in a header value it is given, line breaks included,
so ``=?utf-8?q?x=0D=0ABcc:...?=`` would become a header of its own: the subject is made one
line and its ``=?`` broken before it is set.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from policywatch.core import clock
from policywatch.core.errors import InternalError
from policywatch.messages.render import Email, one_line
from policywatch.storage.outbound import Mailer

_WIRE = SMTP.clone(max_line_length=998)


def build_message(sender: str, recipient: str, email: Email, unsubscribe_url: str | None) -> bytes:
    """The message as SES sends it; fills the email's unsubscribe link first if it is still open."""
    filled = email.for_recipient(unsubscribe_url)
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject = _header_text(filled.subject)
    if str(message["Subject"]) != subject:  # never expected: the email package read something into it
        raise InternalError("the subject would not be sent as written")
    message["Date"] = format_datetime(clock.now())
    # The sender's domain, not make_msgid's default (the host name, slow to look up and an internal name).
    message["Message-ID"] = make_msgid(idstring="policywatch", domain=_domain(sender))
    if filled.change_id:
        message["X-Policywatch-Change"] = _header_text(filled.change_id)
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(filled.text, subtype="plain", charset="utf-8")
    message.add_alternative(filled.html, subtype="html", charset="utf-8")
    # Lines up to RFC 5322's hard limit: folded at 78, the long List-Unsubscribe URL would become an
    # RFC 2047 encoded word, which mailbox providers do not read as an unsubscribe link.
    return message.as_bytes(policy=_WIRE)


def _header_text(text: str) -> str:
    """``text`` as a header value that is sent as written: one line, no encoded-word opener."""
    return one_line(text).replace("=?", "= ?")


def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "policywatch.invalid"


def send_email(mailer: Mailer, sender: str, recipient: str, email: Email, unsubscribe_url: str | None) -> str:
    """Send one email; returns the SES message id."""
    return mailer.send_raw(sender, recipient, build_message(sender, recipient, email, unsubscribe_url))
