"""Operator alerts: a document that keeps failing, its recovery, and a collapse accepted as a
document's new size, on the operator topic.

One alert when a document has failed ``FAILURE_ALERT_AFTER`` sweeps in a row and one when
it next succeeds; the archivist keeps the ``alerted`` flag in the document's state so a
document that stays broken does not page anyone again every six hours.
"""

from __future__ import annotations

from policywatch.storage.topics import Topic


class OperatorAlerts:
    def __init__(self, topic: Topic) -> None:
        self.topic = topic

    def failing(self, document_key: str, *, failures: int, error: str | None) -> None:
        self._publish(
            f"policywatch: {document_key} is failing",
            f"{document_key} has failed {failures} sweeps in a row.\n\n"
            f"Last error: {error}\n\n"
            "Nothing is archived for it until it recovers. `policywatch status` shows every document; "
            "if the page changed its layout, fix the declaration and run `policywatch reextract`.",
            "failing",
        )

    def recovered(self, document_key: str, *, failures: int) -> None:
        self._publish(
            f"policywatch: {document_key} recovered",
            f"{document_key} was fetched and extracted again after {failures} failed sweeps.",
            "recovered",
        )

    def rebaselined(self, document_key: str, *, chars: int, previous_chars: int | None, fetches: int) -> None:
        self._publish(
            f"policywatch: {document_key} is now a shorter page",
            f"{document_key} was refused as collapsed ({chars} characters against {previous_chars}) and came "
            f"back the same way {fetches} times in a row: its text is now archived as the document's new "
            "size, and compared with the last version as any change is.\n\n"
            "If this is a broken page and not the policy, fix the declaration and run `policywatch reextract`.",
            "rebaselined",
        )

    def _publish(self, subject: str, message: str, event: str) -> None:
        self.topic.publish(message, subject=subject, attributes={"event": event})
