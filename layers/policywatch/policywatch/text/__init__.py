"""The reader's text, shared by the stages that read it.

Public: ``noise`` (``normalise``, ``fingerprint``: the noise rules), ``plain`` (``plain``,
``words``: what a reader reads), ``matching`` (budgeted sequence matching) and ``wordchanges``
(``word_delta``, ``quote_delta``: word-level runs of a modified passage).
"""
