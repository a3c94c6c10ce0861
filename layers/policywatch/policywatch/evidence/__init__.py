"""Evidence that stands up in an audit: hash chains of every document's versions, signed
checkpoints of their heads, and audit packs anyone can verify offline (docs/evidence.md).

Pure: no AWS here. ``storage.archive`` writes the chains with ``chain``; the checkpoint function
signs their heads through ``storage.signing``; the CLI builds and verifies packs.
"""
