"""From a fetched page (HTML or PDF) to the Markdown text that is archived and compared.

Public: ``pages`` (``document_text``, ``page_text``, ``declaration_hash``: a document's text as
the pipeline extracts it) and ``checks`` (``EXTRACTOR_VERSION``, ``ExtractionError``,
``check_text``). Inside: ``html`` and ``markdown`` (the HTML parsers, loaded when a page
changed), ``pdf`` (pypdf, for PDF documents), ``budget`` (the limits every extraction keeps).
"""
