"""`make down`: stop the local MiniStack, the demo site and the site's address; state stays in .local/."""

from __future__ import annotations

import os
import signal

from devstack.ministack import ROOT, MiniStack
from devstack.up import PORT, stop_process


def main() -> None:
    local = ROOT / ".local"
    stopped = MiniStack(PORT, local / "ministack").stop()
    print("MiniStack stopped" if stopped else "MiniStack was not running")
    pid_file = local / "demo-site.pid"
    if pid_file.exists():
        try:
            os.killpg(int(pid_file.read_text()), signal.SIGTERM)
            print("demo site stopped")
        except ProcessLookupError:
            pass
        pid_file.unlink()
    if stop_process(local / "edge.pid"):
        print("the site's local address stopped")


if __name__ == "__main__":
    main()
