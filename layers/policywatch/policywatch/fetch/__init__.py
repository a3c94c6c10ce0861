"""Stage 1, fetch and archive: sweep the catalog, fetch each document, extract its text, archive what changed."""
