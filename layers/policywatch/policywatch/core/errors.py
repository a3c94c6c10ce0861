"""One root for every error policywatch raises, in three branches a caller can act on.

- ``InputError``: what a person or a caller gave us is wrong (a catalog, an address, a command's
  argument, a request, a page that is not a policy). Its message is one line that says what and
  where. The CLI prints it and exits 1; the web function answers with a 4xx page; a queue job
  that holds one is never retried by our code: it is recorded (fetch), sent to the dead-letter
  queue with its reason (deliveries), or fails until the queue's redrive policy moves it there.
- ``TransientError``: worth trying again (a network failure, a throttled or unavailable AWS service,
  a server error, a deadline reached). Handlers let it fail the message so the queue retries it.
- ``InternalError``: a bug or a broken deployment (our own record failing its schema, an SMS we
  built too long, a missing environment variable). Logged with its traceback; the alarms fire.

Handlers, the web function and the CLI decide by branch (``InputError`` / ``TransientError`` /
anything else), never by a hand-kept list of leaf classes; a stage may still catch one leaf where
it means something particular (a concurrent update answered with its own page, say).
"""

from __future__ import annotations


class PolicywatchError(Exception):
    """The root: every error policywatch raises on purpose."""


class InputError(PolicywatchError, ValueError):
    """What was given is wrong; the message is one line a person can act on."""


class TransientError(PolicywatchError):
    """Worth retrying: the same request may succeed later."""


class InternalError(PolicywatchError):
    """A bug or a broken deployment: nothing the caller can fix by changing the input."""


class ConfigError(InternalError):
    """An environment variable the function needs is missing or malformed (names it, never its value)."""
