"""The labelled set of the tuning set (docs/labelling.md): versions of the GenAI bundle judged by reading.

The `changed` fields quote the versions: Open Terms Archive GenAI Contrib versions, ODC-By 1.0.
"""
