"""Stage 4, the public web pages: the change pages and one-click unsubscribe.

Public: ``pages`` (``change_page``, ``version_file``, ``unsubscribe``, and the 4xx/5xx pages, each
a ``PageResponse``) and ``settings``.
"""
