"""`make down`: stop the local MiniStack, the demo site and the site's address; state stays in .local/."""

from __future__ import annotations

from devstack.ministack import MiniStack
from devstack.up import EDGE_PORT, LOCAL, PORT, SITE_PORT, stop_process


def main() -> None:
    stopped = MiniStack(PORT, LOCAL / "ministack").stop()
    print("MiniStack stopped" if stopped else "MiniStack was not running")
    if stop_process("demo-site", SITE_PORT):
        print("demo site stopped")
    if stop_process("edge", EDGE_PORT):
        print("the site's local address stopped")


if __name__ == "__main__":
    main()
