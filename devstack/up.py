"""`make up`: MiniStack in the background, the stack built and deployed to it, a demo site.

Safe to run again: a running MiniStack is reused, SAM redeploys only what changed, and the
archive and subscribers persist under .local/ministack/state.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from devstack import demo_site
from devstack.ministack import ROOT, MiniStack, StackError, build, chromium_path, deploy, port_open, verify_sender

PORT = 4566
SITE_PORT = 8766  # the demo policy site
EDGE_PORT = 8767  # the stack's public address (devstack/edge.py): the site, and the links in e-mails
SITE_URL = f"http://127.0.0.1:{EDGE_PORT}"
STACK = "policywatch"
SENDER = "alerts@policywatch.local"
LOCAL = ROOT / ".local"


def start_demo_site() -> None:
    demo_site.publish(0, only_missing=True)  # a site kept from an earlier run keeps its editions
    if not port_open(SITE_PORT):
        spawn("demo-site", ["devstack.demo_site", "serve", "--port", str(SITE_PORT)], SITE_PORT, "the demo site")


def start_edge(ministack_endpoint: str, distribution: str) -> None:
    """The site's local address, forwarding to the distribution this deploy made (restarted each time)."""
    stop_process("edge", EDGE_PORT)
    args = [
        "devstack.edge",
        "--port",
        str(EDGE_PORT),
        "--ministack",
        ministack_endpoint,
        "--distribution",
        distribution,
    ]
    spawn("edge", args, EDGE_PORT, "the site's local address")


def spawn(name: str, module_args: list[str], port: int, what: str) -> None:
    """``python -m module_args`` in the background, its pid in .local/{name}.pid and its output in
    .local/{name}.log, once it listens on ``port`` (5 s at most)."""
    log = open(LOCAL / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", *module_args],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    (LOCAL / f"{name}.pid").write_text(str(process.pid))
    for _ in range(50):
        if port_open(port):
            return
        time.sleep(0.1)
    raise StackError(f"{what} did not start on port {port}; see .local/{name}.log")


def stop_process(name: str, port: int) -> bool:
    """Stop the process group .local/{name}.pid names, and wait until ``port`` is free; whether one ran."""
    pid_file = LOCAL / f"{name}.pid"
    if not pid_file.exists():
        return False
    try:
        os.killpg(int(pid_file.read_text()), signal.SIGTERM)
        stopped = True
    except (ProcessLookupError, ValueError):
        stopped = False
    pid_file.unlink()
    for _ in range(30):
        if not port_open(port):
            break
        time.sleep(0.1)
    return stopped


def main() -> int:
    LOCAL.mkdir(exist_ok=True)
    ministack = MiniStack(PORT, LOCAL / "ministack")
    try:
        print(f"MiniStack on {ministack.endpoint} (state in .local/ministack)")
        ministack.start()
        env = ministack.env()
        print("sam build")
        build_dir = build(env)
        print("sam deploy")
        outputs = deploy(
            env,
            STACK,
            build_dir,
            {
                "SenderEmail": SENDER,
                "SweepSchedule": '"rate(10 minutes)"',
                "FetchAllowlist": f"127.0.0.1:{SITE_PORT}",
                "ArchiveRequiresTls": "false",
                "ChromiumPath": chromium_path(),
                "RenderPageSeconds": "10",
                "PublicBaseUrl": SITE_URL,
            },
        )
        start_edge(ministack.endpoint, outputs["SiteDomainName"])
        verify_sender(env, SENDER)
        start_demo_site()
        catalog_file = LOCAL / "demo-catalog.json"
        catalog_file.write_text(json.dumps(demo_site.catalog(f"http://127.0.0.1:{SITE_PORT}"), indent=2))
        subprocess.run(  # noqa: S603
            [str(ROOT / ".venv" / "bin" / "policywatch"), "catalog", "use", str(catalog_file)], env=env, check=True
        )
        subprocess.run(  # noqa: S603 - versions kept from before hash chains: chained now, not at the next change
            [str(ROOT / ".venv" / "bin" / "policywatch"), "chain"], env=env, check=True, stdout=subprocess.DEVNULL
        )
        subprocess.run(  # noqa: S603 - subscribers kept from before sign-up: an address subscribes once
            [str(ROOT / ".venv" / "bin" / "policywatch"), "subscribers", "reindex"], env=env, check=True
        )
    except (StackError, FileNotFoundError) as exc:
        print(f"make up: {exc}", file=sys.stderr)
        return 1
    (LOCAL / "env").write_text(
        "".join(f"export {k}={v}\n" for k, v in env.items() if k.startswith("AWS_") or k == "SAM_CLI_TELEMETRY")
        + f'export PATH="{ROOT / ".venv" / "bin"}:$PATH"\n'
    )
    print(f"""
policywatch is running locally: stack {STACK!r}, archive s3://{outputs["ArchiveBucketName"]},
sweeping every 10 minutes a demo site on http://127.0.0.1:{SITE_PORT} that serves real pages.

The site (CloudFront on MiniStack, then the web function; links in local e-mails open here):
  {SITE_URL}/                          home: platforms, health, latest changes
  {SITE_URL}/platforms/anthropic       a platform and its governance timeline
  {SITE_URL}/provisions                what each platform says, provision by provision
  {SITE_URL}/feeds/changes.atom        Atom feed of every alerting change
  {SITE_URL}/api/v1/changes            the JSON API (docs/api.md, openapi.json)
  {SITE_URL}/signup                    subscribe yourself (Free); the confirmation and manage-link
                                                  e-mails are in the outbox below (docs/accounts.md)

Try it:
  source .local/env
  policywatch subscribers add --active --email you@example.com --phone +14155550123 --tier watcher --platform anthropic
  policywatch sweep                 # first fetch: archives the 2025-08-28 privacy policy
  make demo-change                  # the demo site now serves Claude's 2025-08-29 policy
  policywatch sweep                 # the change is detected, recorded and sent
  python -m devstack.outbox --full  # the email and SMS, as MiniStack received them, with the change id
  policywatch deliveries CHANGE_ID  # what became of each alert (or give the change page's address)
  policywatch status                # how each page is fetched: Claude's, Perplexity's and xAI's
                                    # are rendered in headless Chromium (xAI's never settles)

The Free tier is digest-only: a Free subscriber gets no same-day alert, only the weekly digest
(Mondays, of the week before). To see it now:
  policywatch subscribers add --active --email free@example.com --tier free --platform anthropic
  policywatch digest --this-week    # this week's digest, now (Monday's run then skips whoever got it)
  policywatch subscribers tier SUBSCRIBER_ID watcher   # or move a subscriber to another tier

Stop with `make down` (the archive and subscribers are kept).""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
