#!/usr/bin/env python3
"""Context switches and CPU time per request, per thread of a server process, from /proc.

Usage:
  thread_switches.py snap PID FILE            record every thread's switches and CPU ticks now
  thread_switches.py diff BEFORE AFTER N      per request (N requests between the two snapshots), per thread

A voluntary switch is a thread blocking (waiting for work, a lock, I/O); an involuntary one is a thread preempted
while it could still run. On a server pinned to one core, each hand-off between two threads costs at least one of
each kind somewhere, so their count per request says how many hand-offs a request made.
"""
import json
import os
import sys


def snap(pid, path):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = [comm, int(status["voluntary_ctxt_switches"]), int(status["nonvoluntary_ctxt_switches"]),
                        int(fields[11]) + int(fields[12])]  # utime + stime, in clock ticks
        except (FileNotFoundError, ProcessLookupError, KeyError):
            pass  # a thread that ended between the listing and the read
    with open(path, "w") as f:
        json.dump(out, f)


def diff(before_path, after_path, requests):
    with open(before_path) as f:
        before = json.load(f)
    with open(after_path) as f:
        after = json.load(f)
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    rows = []
    for tid, (comm, vol, invol, ticks) in after.items():
        _, vol0, invol0, ticks0 = before.get(tid, [comm, 0, 0, 0])
        if vol - vol0 or invol - invol0 or ticks - ticks0:
            rows.append((comm, (vol - vol0) / requests, (invol - invol0) / requests,
                         (ticks - ticks0) * tick_us / requests))
    rows.sort(key=lambda r: -(r[1] + r[2] + r[3] / 1000))
    print("| thread | voluntary | involuntary | CPU us |\n|---|---:|---:|---:|")
    for comm, vol, invol, cpu in rows:
        if vol + invol >= 0.001 or cpu >= 0.5:
            print(f"| {comm} | {vol:.3f} | {invol:.3f} | {cpu:.1f} |")
    print(f"| all threads | {sum(r[1] for r in rows):.3f} | {sum(r[2] for r in rows):.3f} | "
          f"{sum(r[3] for r in rows):.1f} |")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "snap":
        snap(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(__doc__)
