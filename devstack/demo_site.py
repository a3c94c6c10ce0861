"""A local policy site for the demo: real pages from ../shared/corpus, served on loopback.

Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0.

``make up`` publishes Claude.ai's privacy policy as it was on 2025-08-28, ChatGPT's and
Midjourney's; ``make demo-change`` publishes edition 1: Claude's 2025-08-29 version (the day
model training became opt-out), ChatGPT's unchanged, and Midjourney's page "rebuilt" so that
its selector breaks (an extraction failure that `policywatch status` reports).
``make demo-cosmetic`` publishes edition 2: ChatGPT's page with its help-centre links moved
to another locale, the kind of change that is archived and recorded as cosmetic but never
alerts anyone.
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
        target.write_bytes(body)
        note = f" (links rewritten: {', '.join(f'{o} -> {n}' for o, n in rewrites.items())})" if rewrites else ""
        published.append(f"{path} <- {source.relative_to(CORPUS)}{note}")
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
