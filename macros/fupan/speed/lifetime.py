"""Helper processes end with the process they serve.

A build's SVG worker and `fupan serve`'s preview are child processes. When their parent is
killed (SIGKILL, out of memory) nothing tells them: the worker would wait for charts that never
come, the preview would keep the port. Each watches its parent instead and exits once it is gone
(the system then gives the child another parent).
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent: int | None = None, poll_seconds: float = 0.5,
                     signum: int | None = None) -> threading.Thread:
    """Start a daemon thread that ends this process once `parent` (the current parent by
    default) is no longer its parent: at once (exit code 1, no clean-up), or by sending itself
    `signum`, for a process whose handler of that signal cleans up."""
    expected = os.getppid() if parent is None else parent

    def watch() -> None:
        while os.getppid() == expected:
            time.sleep(poll_seconds)
        if signum is None:
            os._exit(1)
        os.kill(os.getpid(), signum)

    thread = threading.Thread(target=watch, name="fupan-exit-with-parent", daemon=True)
    thread.start()
    return thread
