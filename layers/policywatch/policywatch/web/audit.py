"""``/pro/evidence/changes/{platform}/{document}/{stamp}.zip``: a change's audit pack, for Professional subscribers.

The same pack ``policywatch evidence`` makes (``audit.packs.change_pack``), reached through the
change page's Professional link (signed like every ``/pro/`` page). It carries the newest
checkpoint as it is: a change newer than that checkpoint is in the pack's chain, reported by
``policywatch verify`` as chained but not yet signed, until the next hourly checkpoint.
A function URL answers at most 6 MB (about 4.4 MB of zip once base64-encoded): a bigger pack is
a 413 that says to use ``policywatch evidence``.
"""

from __future__ import annotations

import re

from policywatch.audit.packs import PackError, change_pack
from policywatch.core import clock
from policywatch.storage.archive import Archive

PATH = re.compile(r"^/pro/evidence/changes/(?P<key>[a-z0-9][a-z0-9-]{0,80}/[a-z0-9][a-z0-9-]{0,80}/"
                  r"\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z)\.zip$")  # fmt: skip
MAX_ZIP_BYTES = 4_400_000


def pack(archive: Archive, path: str) -> tuple[int, bytes | str]:
    """(200, the zip) or (status, the one line why not)."""
    matched = PATH.match(path)
    if not matched:
        return 404, "There is no such audit pack."
    try:
        made = change_pack(archive, f"changes/{matched['key']}.json").zip(clock.iso(), "policywatch site")
    except PackError as exc:
        return 404, str(exc)
    if len(made) > MAX_ZIP_BYTES:
        return 413, f"This pack is {len(made):,} bytes, more than the site serves; make it with policywatch evidence."
    return 200, made
