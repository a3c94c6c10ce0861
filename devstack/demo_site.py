"""A local policy site for the demo: real pages from ../shared/corpus, served on loopback.

Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0.

``make up`` publishes Claude.ai's privacy policy as it was on 2025-08-28, ChatGPT's and
Midjourney's; ``make demo-change`` publishes edition 1: Claude's 2025-08-29 version (the day
model training became opt-out), ChatGPT's unchanged, and Midjourney's page "rebuilt" so that
its selector breaks (an extraction failure that `policywatch status` reports).
``make demo-cosmetic`` publishes edition 2: ChatGPT's page with its help-centre links moved
to another locale, the kind of change that is archived and recorded as cosmetic but never
alerts anyone.

Three pages need a browser, as many real ones do (docs/rendering.md): Claude's policy is served
as a script-built app (an empty shell whose script writes the policy in), Perplexity's sits
behind a JavaScript challenge that sets a cookie and reloads (as Cloudflare's does), and xAI's
terms never finish loading (a recorded failure, never a version).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
from pathlib import Path

from devstack.ministack import ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "snapshots"
SITE = ROOT / ".local" / "site"
PAGES: dict[str, list[str | tuple[str, dict[str, str]]]] = {
    # path on the demo site -> corpus snapshots, oldest first (a snapshot, or one and its rewrites)
    "anthropic/legal/privacy.html": [
        "claude-ai/privacy-policy/2025-08-28.html",
        "claude-ai/privacy-policy/2025-08-29.html",
    ],
    # Edition 2 rewrites link targets only (a locale moved in the URLs): a cosmetic change.
    "openai/policies/row-privacy-policy.html": [
        "chatgpt/privacy-policy/2025-07-31.html",
        "chatgpt/privacy-policy/2025-07-31.html",
        ("chatgpt/privacy-policy/2025-07-31.html", {"https://help.openai.com/en/": "https://help.openai.com/en-us/"}),
    ],
    # Edition 1 breaks this one: the site is rebuilt as a script-rendered app and the declared
    # selector matches nothing (Le Chat's real page of 2026-08-21 stands in for the rebuild).
    "midjourney/docs/privacy-policy.html": [
        "midjourney/privacy-policy/2026-08-22.html",
        "le-chat/privacy-policy/2026-08-21.html",
    ],
}


# How a page is served: as the corpus has it, or by a script (docs/rendering.md).
SCRIPTED = {
    "anthropic/legal/privacy.html": "app",
    "perplexity/hub/legal/privacy-policy.html": "challenge",
    "xai/legal/terms-of-service.html": "never-settles",
}
PAGES["perplexity/hub/legal/privacy-policy.html"] = ["perplexity/privacy-policy/2025-09-24.html"]
PAGES["xai/legal/terms-of-service.html"] = ["grok/terms-of-service/2026-08-22.html"]


def script_literal(text: str) -> str:
    """``text`` as a JavaScript string that can sit inside a <script> element."""
    return json.dumps(text).replace("</", "<\\/")


def scripted(page: bytes, how: str) -> bytes:
    """The page as a script-built app would serve it: its head, and a body its script writes.

    ``app``: the body appears once the script ran. ``challenge``: the first load shows "Just a
    moment..." and a script that sets a cookie and reloads; the reload shows the page.
    ``never-settles``: "Loading..." for ever, while the page polls the server."""
    html = page.decode("utf-8")
    head_end, body_start = html.find("</head>"), html.find("<body")
    head = html[:head_end] if head_end >= 0 else "<html><head>"
    start = html.index(">", body_start) + 1 if body_start >= 0 else 0
    end = html.rfind("</body>")
    body = html[start : end if end >= 0 else len(html)]
    render = f"document.body.innerHTML = {script_literal(body)};"
    if how == "app":
        script = f"window.addEventListener('DOMContentLoaded', () => setTimeout(() => {{ {render} }}, 50));"
        shell = "<div id=root>Loading…</div>"
    elif how == "challenge":
        script = (
            "if (document.cookie.includes('pw_challenge=passed')) { "
            f"window.addEventListener('DOMContentLoaded', () => {{ {render} }}); }} else {{ "
            "setTimeout(() => { document.cookie = 'pw_challenge=passed; path=/'; location.reload(); }, 300); }"
        )
        shell = "<p>Just a moment… checking your browser.</p>"
    elif how == "never-settles":
        script = "setInterval(() => fetch(location.href, {cache: 'no-store'}).catch(() => {}), 500);"
        shell = "<div id=root>Loading…</div>"
    else:
        raise ValueError(f"unknown way to serve a page: {how!r}")
    return f"{head}</head><body>{shell}<script>{script}</script></body></html>".encode()


def catalog(base_url: str) -> dict:
    """The catalog override that points the stack at the demo site."""
    return {
        "platforms": [
            {
                "id": "anthropic",
                "name": "Anthropic (Claude)",
                "operator": "Anthropic PBC",
                "documents": [
                    {
                        "type": "Privacy Policy",
                        "render": "browser",
                        "pages": [{"url": f"{base_url}/anthropic/legal/privacy.html", "select": ["main"]}],
                    }
                ],
            },
            {
                "id": "openai",
                "name": "OpenAI (ChatGPT)",
                "operator": "OpenAI OpCo, LLC",
                "documents": [
                    {
                        "type": "Privacy Policy",
                        "pages": [
                            {
                                "url": f"{base_url}/openai/policies/row-privacy-policy.html",
                                "select": ["main"],
                                "remove": ['select[name="Locale Select"]', "main .sr-only"],
                            }
                        ],
                    }
                ],
            },
            {
                "id": "midjourney",
                "name": "Midjourney",
                "operator": "Midjourney, Inc.",
                "documents": [
                    {
                        "type": "Privacy Policy",
                        "pages": [{"url": f"{base_url}/midjourney/docs/privacy-policy.html", "select": ["article"]}],
                    }
                ],
            },
            {
                "id": "perplexity",
                "name": "Perplexity",
                "operator": "Perplexity AI, Inc.",
                "documents": [
                    {
                        "type": "Privacy Policy",
                        "render": "browser",
                        "pages": [
                            {
                                "url": f"{base_url}/perplexity/hub/legal/privacy-policy.html",
                                "select": ["[data-framer-name=Post]"],
                            }
                        ],
                    }
                ],
            },
            {
                "id": "xai",
                "name": "xAI (Grok)",
                "operator": "X.AI LLC",
                "documents": [
                    {
                        "type": "Terms of Service",
                        "render": "browser",
                        "pages": [{"url": f"{base_url}/xai/legal/terms-of-service.html", "select": [".prose"]}],
                    }
                ],
            },
        ]
    }


def publish(edition: int, site: Path = SITE, *, only_missing: bool = False) -> list[str]:
    """Put edition N (0 = first) of every page on the site; pages with fewer stay at their last."""
    published = []
    for path, editions in PAGES.items():
        if only_missing and (site / path).exists():
            continue
        entry = editions[min(edition, len(editions) - 1)]
        name, rewrites = entry if isinstance(entry, tuple) else (entry, {})
        source = CORPUS / name
        if not source.exists():
            raise FileNotFoundError(f"corpus page {source} is missing: is ../shared beside the project?")
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        body = source.read_bytes()
        for old, new in rewrites.items():
            body = body.replace(old.encode(), new.encode())
        if path in SCRIPTED:
            body = scripted(body, SCRIPTED[path])
        target.write_bytes(body)
        note = f" (links rewritten: {', '.join(f'{o} -> {n}' for o, n in rewrites.items())})" if rewrites else ""
        how = f" [served by a script: {SCRIPTED[path]}]" if path in SCRIPTED else ""
        published.append(f"{path} <- {source.relative_to(CORPUS)}{note}{how}")
    return published


def serve(port: int, site: Path = SITE) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve").add_argument("--port", type=int, default=8766)
    sub.add_parser("publish").add_argument("edition", type=int)
    sub.add_parser("catalog").add_argument("--base-url", default="http://127.0.0.1:8766")
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.port)
    elif args.command == "publish":
        for line in publish(args.edition):
            print(line)
    else:
        print(json.dumps(catalog(args.base_url), indent=2))


if __name__ == "__main__":
    main()
