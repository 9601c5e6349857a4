"""A sampling profiler for a server under bench/chat_fanout.py: `--wrapper bench/sampling_wrapper.py`.

Runs SCRIPT in this process and, from a real OS thread started before gevent patches
`threading`, looks at the main thread's frame every SAMPLE_SECONDS (the greenlet running
now, gevent's hub when idle). Every two seconds it writes to $PROFILE_OUT (default
/tmp/sampling_profile.txt) the busy samples per function: inclusive (anywhere in the stack)
and self (the innermost frame). Hub samples (nothing to run) are counted apart. Samples still
lean towards system calls (the GIL is free there); read them as indicative.
"""

import _thread
import collections
import os
import runpy
import sys
import tempfile
import time

SAMPLE_SECONDS = 0.001
# Samples start after this many seconds (start-up, logins, warm-up and rate phase: about 18 s
# with `--warmup 1`), so that they show the saturation phase.
SKIP_SECONDS = float(os.environ.get("PROFILE_SKIP_SECONDS", "0"))
# ... and stop after this many (default: never), to look at the rate phase alone.
SAMPLE_FOR_SECONDS = float(os.environ.get("PROFILE_SECONDS", "inf"))
OUT = os.environ.get("PROFILE_OUT", os.path.join(tempfile.gettempdir(), "sampling_profile.txt"))
real_sleep = time.sleep  # gevent's patch of time.sleep must not reach this thread
inclusive: collections.Counter = collections.Counter()
innermost: collections.Counter = collections.Counter()
totals = {"busy": 0, "idle": 0}
# Functions whose samples are also counted by the line they were on ("path:function", comma-separated).
FOCUS = set(filter(None, os.environ.get("PROFILE_FOCUS", "").split(",")))
by_line: collections.Counter = collections.Counter()


def label(frame) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "/app/", "/bench/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{code.co_name}"


def sample_forever(main_id: int) -> None:
    real_sleep(SKIP_SECONDS)
    written = time.monotonic()
    end = written + SAMPLE_FOR_SECONDS
    while time.monotonic() < end:
        real_sleep(SAMPLE_SECONDS)
        frame = sys._current_frames().get(main_id)
        if frame is None:
            continue
        if frame.f_code.co_name == "run" and frame.f_code.co_filename.endswith("gevent/hub.py"):
            totals["idle"] += 1
            continue
        totals["busy"] += 1
        innermost[label(frame)] += 1
        seen = set()
        while frame is not None:
            name = label(frame)
            if name not in seen:
                seen.add(name)
                inclusive[name] += 1
                if name in FOCUS:
                    by_line[f"{name}:{frame.f_lineno}"] += 1
            frame = frame.f_back
        if time.monotonic() - written > 2:
            written = time.monotonic()
            write()
    write()


def write() -> None:
    busy = max(1, totals["busy"])
    lines = [f"busy samples {totals['busy']}, idle (hub) {totals['idle']}", "", "inclusive:"]
    lines += [f"{count / busy:6.1%}  {name}" for name, count in inclusive.most_common(120)]
    if FOCUS:
        lines += ["", "focus, by line:"]
        lines += [f"{count / busy:6.1%}  {name}" for name, count in sorted(by_line.items())]
    lines += ["", "self:"]
    lines += [f"{count / busy:6.1%}  {name}" for name, count in innermost.most_common(60)]
    with open(OUT, "w") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    # The sampler gets the GIL only when the server releases it (a system call) or after the
    # switch interval: at the default 5 ms, system calls would get most of the samples.
    sys.setswitchinterval(0.0002)
    _thread.start_new_thread(sample_forever, (_thread.get_ident(),))
    runpy.run_path(script, run_name="__main__")
