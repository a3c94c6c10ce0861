"""Benchmark: the weekly digest for 100,000 Free subscribers spread over the catalog's platforms.

Target (issue 18): the digest at scale, paced and sharded as the alerts are, each subscriber sent
one digest. The week's plan (``notify.digest.plan_week``, as DigestFunction makes it) starts one
chain of pages per platform on the fan-out queue; ``--instances`` NotifyFunction instances
(separate processes, ``bench/lambdas.py``) send the pages against a MiniStack of the benchmark's
own, with SES answered by ``bench/providers.py`` (tens of milliseconds a send, its quota
enforced). Every platform of the packaged catalog had a change last week (the real Claude.ai
training change, Open Terms Archive, ODC-By 1.0, under each platform's name).

Prints the time, emails a second against the quota, the pages, and the counts that matter:
digests expected, sent (SES accepted), recipients who got more than one, recipients who got
none.

    .venv/bin/python -m bench.digest [--subscribers 100000] [--instances 16] [--ses-rate 100]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.fanout import BUCKET, create_stack, write_subscribers
from bench.lambdas import run_instances
from bench.providers import Providers, Settings
from devstack.ministack import MiniStack, free_port
from policywatch.catalog import load_packaged
from policywatch.core import clock
from policywatch.notify import pages
from policywatch.notify.digest import plan_week, week_window
from policywatch.storage import clients as aws
from policywatch.storage.archive import Archive, stamp
from policywatch.storage.fanouts import FanOuts, complete
from policywatch.storage.queues import Queue
from policywatch.subscribers import Subscriber


def seed(platforms: list[str], count: int) -> None:
    """``count`` active Free subscribers, one platform each, spread evenly over ``platforms``."""
    for first in range(0, count, 10_000):  # a slice at a time: 100,000 subscribers' items fit, but need not
        items: list[dict] = []
        for n in range(first, min(first + 10_000, count)):
            platform = platforms[n % len(platforms)]
            subscriber = Subscriber(
                subscriber_id=f"sub_f{n:07d}",
                email=f"reader{n}@free.example.com",
                tier="free",
                platforms=[platform],
                status="active",
                unsubscribe_token=f"token{n}",
                version=1,
            )
            data = subscriber.to_item()
            items += [{**data, "item": "profile"}, {**data, "item": f"watch#{platform}", "platform": platform}]
        write_subscribers(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--instances", type=int, default=16)
    parser.add_argument("--ses-rate", type=int, default=100, help="the fake account's SES quota, emails a second")
    parser.add_argument("--in-flight", type=int, default=4, help="sends in flight per instance (NOTIFY_CONCURRENCY)")
    parser.add_argument("--page-size", type=int, default=100, help="FANOUT_PAGE_SIZE")
    args = parser.parse_args()

    settings = Settings(ses_rate=args.ses_rate, ses_daily=None)
    with tempfile.TemporaryDirectory() as state, Providers(settings) as providers:
        ministack = MiniStack(free_port(), Path(state))
        ministack.start()
        try:
            os.environ.update(ministack.env() | {"AWS_DEFAULT_REGION": "us-east-1"})
            aws.reset()
            env, record = create_stack(providers)
            queues = json.loads(env.pop("_queues"))
            env |= {k: v for k, v in ministack.env().items() if k.startswith("AWS_")}
            env |= {"NOTIFY_CONCURRENCY": str(args.in_flight), "FANOUT_PAGE_SIZE": str(args.page_size)}
            platforms = sorted(p.id for p in load_packaged().platforms)
            # Last week: one alerting change per platform.
            monday, _ = week_window(clock.now())
            archive = Archive(BUCKET)
            for i, platform in enumerate(platforms):
                key = f"changes/{platform}/privacy-policy/{stamp(monday + timedelta(hours=i + 1))}.json"
                archive.put_json(key, {**record, "platform": platform, "change_id": f"bench-{platform}"})
            started = time.monotonic()
            seed(platforms, args.subscribers)
            print(
                f"seeded {args.subscribers:,} Free subscribers over {len(platforms)} platforms in "
                f"{time.monotonic() - started:.0f} s; fake SES quota {args.ses_rate}/s; {args.instances} instances, "
                f"{args.in_flight} in flight each, pages of {args.page_size}"
            )
            week = plan_week(archive)
            archive.put_json(week.key, week.to_dict())
            fanouts = FanOuts("deliveries")

            def start() -> None:
                pages.start(
                    "digest", week.fanout_id, week.key, week.platforms, fanouts=fanouts, queue=Queue(queues["fanout"])
                )

            def completed() -> bool:
                summary = fanouts.summary(week.fanout_id)
                return summary is not None and complete(summary) and "completed_at" in summary

            run = run_instances(
                args.instances,
                queues=[queues["fanout"]],
                env=env,
                stop_when=completed,
                on_ready=start,
                max_seconds=7200,
                poll_seconds=0.5,
            )
            seconds = time.time() - run.started
            summary = fanouts.summary(week.fanout_id) or {}
            counts = providers.counts()
        finally:
            ministack.stop()
    got = counts["recipients"].get("ses", {})
    expected = {f"reader{n}@free.example.com" for n in range(args.subscribers)}
    twice = sum(1 for n in got.values() if n > 1)
    missing = len(expected - set(got))
    sent = counts["accepted"].get("ses", 0)
    print(f"digest of {week.week}: {len(week.platforms)} platforms, {int(summary.get('pages_done', 0)):,} pages")
    print(
        f"sent {sent:,} digests in {seconds:.0f} s = {sent / seconds:,.0f}/s (quota {args.ses_rate}/s, "
        f"peak {counts['peak_per_second'].get('ses', 0)} in a second, {counts['throttled'].get('ses', 0)} throttled)"
    )
    print(f"expected {len(expected):,}; got more than one: {twice}; got none: {missing}")
    print(
        f"ledger: sent {int(summary.get('sent', 0)):,}, already sent {int(summary.get('duplicates', 0)):,}, "
        f"failed {int(summary.get('failed', 0))}, items read {int(summary.get('items_read', 0)):,}"
    )
    if twice or missing:
        raise SystemExit("the digest was not sent exactly once to each subscriber")


if __name__ == "__main__":
    main()
