"""The labelled set of the tuning set (docs/labelling.md): versions of the GenAI bundle judged by reading."""
