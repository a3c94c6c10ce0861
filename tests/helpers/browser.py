"""Where the tests find Chromium: as the local stack does (``devstack.ministack.chromium_path``)."""

from __future__ import annotations

from devstack.ministack import chromium_path

__all__ = ["chromium_path"]
