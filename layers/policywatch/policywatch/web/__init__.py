"""The public site, above the pipeline stages it shows (docs/site.md, docs/api.md).

Public: ``site.Site`` (what every page reads), ``views`` (the HTML pages), ``feeds`` (Atom),
``api`` (JSON, described by ``openapi.json``), each with ``route(site, request)``; ``signed``
(Professional links), ``pages`` (archived version files, one-click unsubscribe, the 4xx/5xx
pages, each a ``PageResponse``), ``request`` and ``settings``.
"""
