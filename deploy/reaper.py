"""supervisord event listener: when a program's main process dies, end what is left of its process group.

Each program leads a process group its children join. In a container they would end with the main
process; here they live on, and nginx's orphaned workers keep the port the restarted master must bind.
So, as a container runtime would, this kills the rest of the group. A program supervisord stops itself
(STOPPED) is left alone: killasgroup covers it. http://supervisord.org/events.html
"""

from __future__ import annotations

import os
import signal
import sys

from supervisor import childutils


def end_group(name: str, pid: int) -> None:
    if pid <= 1:  # never known (0 would be this listener's own group)
        return
    try:
        os.killpg(pid, signal.SIGKILL)  # the group's id is its leader's PID
    except ProcessLookupError:
        return  # nothing was left
    print(f"{name}: ended what was left of pid {pid}'s process group", file=sys.stderr, flush=True)


def main() -> None:
    supervisor = childutils.getRPCInterface(os.environ).supervisor
    started: dict[str, int] = {}
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        fields, _ = childutils.eventdata(payload + "\n")
        name = f"{fields['groupname']}:{fields['processname']}"
        if headers["eventname"] == "PROCESS_STATE_STARTING":
            # A start that fails is reported without its PID (BACKOFF): ask for it now.
            started[name] = supervisor.getProcessInfo(name)["pid"]
        else:  # EXITED, with its PID; or BACKOFF, a start that failed
            end_group(name, int(fields.get("pid") or started.pop(name, 0)))
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
