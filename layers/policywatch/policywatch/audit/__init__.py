"""Audit packs gathered from the archive (``packs``): what the CLI's ``policywatch evidence`` writes
and the change page's Professional link serves. The pack's format and its offline verification
are ``evidence.pack`` and ``evidence.verify``."""
