"""The bottom of the package: what every other package may use, and which imports nothing of ours.

Public: ``clock`` (now, ISO stamps), ``errors`` (``PolicywatchError`` and its branches ``InputError``,
``TransientError``, ``InternalError``), ``settings`` (``Settings``, ``env``, ``check_at_cold_start``),
``backoff`` (``RetryPolicy``), ``events`` (the change-event contract: ``validate``,
``event_from_record``, ``parse_change_event``, ``change_id``), ``links`` (``Links``: the public URLs
alerts carry), ``outbound`` (the SSRF rules every outbound connection obeys: ``check_url``,
``resolve``, ``parse_allowlist``), ``watchdog`` (``Watchdog``: a deadline no socket outlives, for
fetches and webhook attempts alike).
"""
