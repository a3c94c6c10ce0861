"""Stage 1, fetch and archive: sweep the catalog, fetch each document, extract its text, archive what changed.

Public: ``sweep`` (``current_catalog``, ``enqueue``: one job per document), ``jobs.run_batch`` (a
batch of fetch jobs, host groups in parallel), ``archivist.Archivist`` (one document: fetch,
extract, check, archive, record its state), ``reextract.reextract`` (rebuild versions from kept
snapshots), ``alerts.OperatorAlerts``, ``settings``. Inside: ``fetcher``/``network``/``result``
(HTTP within bounds, every hop checked) and ``extraction`` (HTML and PDF to Markdown).
"""
