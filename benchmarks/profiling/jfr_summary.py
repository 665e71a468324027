#!/usr/bin/env python3
"""Summarises JFR recordings of Gantry servers side by side: execution samples per thread group, the top frames
by self time and by inclusive time on the event loop, and the bytes allocated per thread group.

Usage: jfr_summary.py NAME=FILE.jfr [NAME=FILE.jfr ...] [--top 25] [--requests NAME=N ...]
Needs `jfr` (the JDK's) on the PATH. Prints Markdown tables.
"""
import collections
import json
import subprocess
import sys

WATCH = [  # inclusive shares of these frames (method name prefix match on "Class.method")
    "io.vertx.ext.web.impl.RouterImpl.handle",
    "io.vertx.ext.web.impl.RoutingContextImplBase.iterateNext",
    "io.vertx.ext.web.impl.RouteState.matches",
    "java.util.regex.Matcher",
    "dev.gantry.http.inference.InferenceHandler.handle",
    "dev.gantry.http.inference.OipCodec.decodeRequest",
    "dev.gantry.http.inference.OipRequestReader",
    "dev.gantry.http.inference.PlainRequestReader",
    "com.fasterxml.jackson.core.json.UTF8StreamJsonParser",
    "dev.gantry.http.inference.DeprecationHeaders",
    "io.vertx.ext.web.impl.RoutingContextImpl.put",
    "io.vertx.core.http.impl.headers.HeadersMultiMap.set",
    "dev.gantry.http.inference.OipCodec.encodeResponse",
    "dev.gantry.http.inference.BodyReader",
    "dev.gantry.http.auth.AccessControl",
    "dev.gantry.http.auth.BrowserGuard.handle",
    "dev.gantry.http.ConnectionGuard",
    "io.vertx.core.impl.VertxImpl.setTimer",
    "io.vertx.core.impl.VertxImpl.cancelTimer",
    "io.netty.handler.codec.http.HttpObjectEncoder",
    "io.netty.handler.codec.http.HttpObjectDecoder",
    "io.micrometer",
    "io.vertx.core.impl.ContextImpl.runOnContext",
    "io.netty.util.concurrent.SingleThreadEventExecutor.execute",
]


def group(thread):
    if thread is None:
        return "other"
    if "eventloop" in thread:
        return "event loop"
    if thread.startswith("gantry-infer"):
        return "model thread"
    return "other"


def frame_name(f):
    m = f.get("method", {})
    t = m.get("type", {}).get("name", "?")
    return t.replace("/", ".") + "." + m.get("name", "?")


# `jfr print` keeps only the top 5 frames of each stack unless told otherwise; the inclusive shares need whole
# stacks (JFR records up to 64 frames by default). Summaries made before 2026-12-02 16:30 counted a frame only
# when it was among the top 5, so their inclusive shares are lower bounds; their self shares are unaffected.
STACK_DEPTH = "64"


def load(path, event):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", STACK_DEPTH, "--events", event, path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["recording"]["events"]


def summarise(name, path):
    samples = load(path, "jdk.ExecutionSample")
    threads = collections.Counter()
    self_loop = collections.Counter()
    incl_loop = collections.Counter()
    loop_total = 0
    for e in samples:
        v = e["values"]
        thread = (v.get("sampledThread") or {}).get("javaName") or (v.get("sampledThread") or {}).get("osName")
        g = group(thread)
        threads[g] += 1
        if g != "event loop":
            continue
        loop_total += 1
        frames = [frame_name(f) for f in (v.get("stackTrace") or {}).get("frames", [])]
        if frames:
            self_loop[frames[0]] += 1
        seen = set()
        for fr in frames:
            for w in WATCH:
                if fr.startswith(w) and w not in seen:
                    seen.add(w)
                    incl_loop[w] += 1
    # Bytes allocated during the recording per thread group: the weights of jdk.ObjectAllocationSample (JFR's
    # throttled allocation samples, each weighted by the bytes allocated since the thread's previous sample).
    alloc_group = collections.Counter()
    for e in load(path, "jdk.ObjectAllocationSample"):
        v = e["values"]
        thread = (v.get("eventThread") or {}).get("javaName")
        alloc_group[group(thread)] += v.get("weight", 0)
    return dict(name=name, samples=len(samples), threads=threads, self_loop=self_loop, incl_loop=incl_loop,
                loop_total=loop_total, alloc=alloc_group)


def main(argv):
    top = 25
    runs = []
    requests = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--top":
            top = int(argv[i + 1]); i += 2; continue
        if a == "--requests":
            k, n = argv[i + 1].split("=", 1); requests[k] = int(n); i += 2; continue
        k, p = a.split("=", 1)
        runs.append(summarise(k, p))
        i += 1
    names = [r["name"] for r in runs]
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(runs))
    print("| execution samples | " + " | ".join(str(r["samples"]) for r in runs) + " |")
    for g in ["event loop", "model thread", "other"]:
        print(f"| share: {g} | " + " | ".join(
            f"{100.0 * r['threads'][g] / max(1, r['samples']):.1f}%" for r in runs) + " |")
    for g in ["event loop", "model thread"]:
        cells = []
        for r in runs:
            b = r["alloc"][g]
            n = requests.get(r["name"])
            cells.append(f"{b / n:,.0f} B/request" if n else f"{b / 1e6:,.0f} MB")
        print(f"| allocated: {g} | " + " | ".join(cells) + " |")
    print()
    print("Inclusive share of event-loop samples:")
    print()
    print("| frame | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(runs))
    for w in WATCH:
        print(f"| `{w}` | " + " | ".join(
            f"{100.0 * r['incl_loop'][w] / max(1, r['loop_total']):.1f}%" for r in runs) + " |")
    for r in runs:
        print()
        print(f"Top {top} self frames on the event loop, {r['name']} ({r['loop_total']} samples):")
        print()
        print("| frame | share |")
        print("|---|---:|")
        for fr, n in r["self_loop"].most_common(top):
            print(f"| `{fr}` | {100.0 * n / max(1, r['loop_total']):.1f}% |")


if __name__ == "__main__":
    main(sys.argv[1:])
