"""One pupil's flood against everyone else's chat: quiet users' chat_send round trips before,
during and after one user sends thousands of events a second.

Run by hand, never from pytest. It starts CrossClass (`wsgi.py`, by default this checkout's;
`--root DIR` runs another checkout's code on the same data, for a before/after), logs in
Q quiet students and one flooder of one exchange, and runs three phases of D seconds:

- quiet: each quiet user sends chat_send at R messages/s (open loop, on a schedule), well
  under the rate limit, and times each ack;
- flood: the same, while the flooder sends chat_send at F events/s in total from S sockets
  (spread over --flood-workers processes, so the load generator is not the limit);
- after: the same, once the flood stopped.

Printed per phase: the quiet users' round trips p50 / p95 / p99 / max and their errors; the
flood's events sent and acks by code; the cores busy (server, flood clients, quiet clients,
whole machine); then p99 flood / quiet against the target (at most 2 times).

By default the server never cuts a flooding socket off (SOCKET_FLOOD_REFUSALS=0): every
flood event has to be refused, the worst case for the refusal path. `--cut-off` keeps the
server's defaults instead, and the flooder reconnects as soon as it is cut off or refused
(a hostile client ignoring the cool-down).

    .venv/bin/python bench/flood.py                                   # SQLite, one process
    .venv/bin/python bench/flood.py --redis redis://127.0.0.1:6379/0  # two processes, shared limit
    .venv/bin/python bench/flood.py --root /tmp/crossclass-old        # another checkout's server

Clients are chat_fanout's lean Engine.IO / Socket.IO speakers (bench/chat_fanout.py).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import chat_fanout as fanout  # noqa: E402
from chat_fanout import (  # noqa: E402
    FILLER,
    PASSWORD,
    LeanClient,
    PhaseLog,
    Server,
    bench_database_url,
    create_exchange,
    machine_busy_seconds,
    percentile,
    wait_until_subscribed,
)

SETTLE_TIMEOUT = 30
TARGET_RATIO = 2.0


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chat_payload(channel_id: int, tag: str, index: int, n: int) -> dict:
    # The body in chat_fanout's format, which its clients parse in the chat_events they receive.
    return {
        "channel_id": channel_id,
        "client_id": str(uuid.uuid4()),
        "body": f"{tag} {index} {n} {time.time_ns()} {FILLER}",
    }


# ---- client processes ------------------------------------------------------------------------


class FloodClient(LeanClient):
    """A lean client that knows when the server has closed its connection (a cut-off)."""

    closed = False

    def _read_forever(self) -> None:
        try:
            super()._read_forever()
        finally:
            self.closed = True


def quiet_main(connection, specs: list[dict], channel_id: int) -> None:
    """The quiet users: chat_send on a schedule from start to stop; each send's wall time,
    round trip (ms) and error code go back."""
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            clients = list(pool.map(lambda spec: LeanClient(spec["url"], spec["cookie"]).connect(), specs))
        for client in clients:
            client.log = PhaseLog("bench")
            joined = client.call("chat_join", {"channel_id": channel_id})
            if not joined.get("ok"):
                raise RuntimeError(f"chat_join refused: {joined}")
        connection.send(("ready", None))
    except Exception as error:
        connection.send(("failed", repr(error)))
        return
    _, command = connection.recv()
    samples: list[tuple[float, float | None, str | None]] = []
    sent = Counter()
    lock = threading.Lock()

    def run(index: int, client: LeanClient) -> None:
        interval = 1 / command["rate"]
        offset = index * interval / len(clients)  # staggered, so the total rate is even
        n = 0
        while True:
            due = command["start"] + offset + n * interval
            if due >= command["stop"]:
                break
            time.sleep(max(0.0, due - time.time()))
            sent_wall, sent_at = time.time(), time.perf_counter()

            def acked(result, sent_wall=sent_wall, sent_at=sent_at):
                rtt = (time.perf_counter() - sent_at) * 1000
                ok = isinstance(result, dict) and result.get("ok")
                code = None if ok else (result or {}).get("error", {}).get("code", "?")
                with lock:
                    samples.append((sent_wall, rtt, code))

            client.emit("chat_send", chat_payload(channel_id, "bench", index, n), acked)
            n += 1
        with lock:
            sent["total"] += n

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        with lock:
            if len(samples) >= sent["total"]:
                break
        time.sleep(0.1)
    with lock:
        connection.send(("samples", (list(samples), sent["total"])))
    for client in clients:
        client.close()


def flood_main(connection, specs: list[dict], channel_id: int, reconnect: bool) -> None:
    """Flood sockets of one user: chat_send at `rate` each from start to stop, acks counted."""
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            clients = list(pool.map(lambda spec: FloodClient(spec["url"], spec["cookie"]).connect(), specs))
        connection.send(("ready", None))
    except Exception as error:
        connection.send(("failed", repr(error)))
        return
    _, command = connection.recv()
    codes: Counter = Counter()
    counts: Counter = Counter()
    lock = threading.Lock()

    def acked(result) -> None:
        ok = isinstance(result, dict) and result.get("ok")
        with lock:
            codes["ok" if ok else (result or {}).get("error", {}).get("code", "?")] += 1

    def run(index: int, client: LeanClient) -> None:
        spec = specs[index]
        rate, start, stop = command["rate"], command["start"], command["stop"]
        time.sleep(max(0.0, start - time.time()))
        n = 0
        while (now := time.time()) < stop:
            due = int((now - start) * rate)
            try:
                if client.closed:
                    raise ConnectionError("closed by the server")
                while n < due:
                    client.emit("chat_send", chat_payload(channel_id, "flood", index, n), acked)
                    n += 1
            except Exception:
                with lock:
                    counts["disconnected"] += 1
                    counts["sent"] += n
                if not reconnect:
                    return
                while time.time() < stop:
                    candidate = FloodClient(spec["url"], spec["cookie"])
                    try:
                        client = candidate.connect()
                        with lock:
                            counts["reconnected"] += 1
                        break
                    except Exception:
                        candidate.close()  # (refused: its connection would linger till the ping timeout)
                        with lock:
                            counts["connect_refused"] += 1
                        time.sleep(0.05)
                n = 0
                start = time.time()  # a flooder does not catch up what it missed
            time.sleep(0.002)
        with lock:
            counts["sent"] += n

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(1)  # the last acks
    with lock:
        connection.send(("counts", {"codes": dict(codes), **counts}))
    for client in clients:
        client.close()


# ---- orchestration ---------------------------------------------------------------------------


def start_workers(target, parts: list[tuple]) -> list[tuple]:
    context = multiprocessing.get_context("spawn")
    workers = []
    for arguments in parts:
        parent, child = context.Pipe()
        process = context.Process(target=target, args=(child, *arguments), daemon=True)
        process.start()
        workers.append((parent, process))
    for parent, _ in workers:
        status, detail = parent.recv()
        if status != "ready":
            raise RuntimeError(f"a client worker failed: {detail}")
    return workers


def summarize(samples: list, begin: float, end: float) -> dict:
    rtts = [rtt for sent, rtt, code in samples if begin <= sent < end and code is None]
    errors = Counter(code for sent, _rtt, code in samples if begin <= sent < end and code is not None)
    return {
        "count": len(rtts),
        "errors": dict(errors),
        "p50": percentile(rtts, 0.5),
        "p95": percentile(rtts, 0.95),
        "p99": percentile(rtts, 0.99),
        "max": max(rtts, default=float("nan")),
    }


def run(args, tmp: str) -> None:
    database_url = bench_database_url(args.database, tmp)
    from tests.conftest import login_cookie, prepare_database

    prepare_database(database_url, seed=False)
    channel_id, names = create_exchange(database_url, args.quiet + 1)
    environ = {"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32)}
    if not args.cut_off:
        environ["SOCKET_FLOOD_REFUSALS"] = "0"
    redis_channel = None
    if args.redis:
        namespace = f"bench-flood-{os.getpid()}-{secrets.token_hex(3)}"
        environ |= {"REDIS_URL": args.redis, "REDIS_NAMESPACE": namespace}
        redis_channel = f"{namespace}:socketio"
    if args.root:
        fanout.ROOT = Path(args.root).resolve()  # Server.start runs wsgi.py there
    servers = [Server("wsgi.py", environ, args).start() for _ in range(2 if args.redis else 1)]
    workers: list[tuple] = []
    try:
        flooder, quiet_names = names[0], names[1:]
        with ThreadPoolExecutor(max_workers=4) as pool:
            urls = [servers[n % len(servers)].url for n in range(len(quiet_names))]
            quiet_cookies = list(pool.map(lambda url, name: login_cookie(url, name, PASSWORD), urls, quiet_names))
        flood_cookie = login_cookie(servers[0].url, flooder, PASSWORD)
        quiet_specs = [{"url": url, "cookie": cookie} for url, cookie in zip(urls, quiet_cookies, strict=True)]
        flood_specs = [{"url": servers[n % len(servers)].url, "cookie": flood_cookie} for n in range(args.sockets)]
        quiet_workers = start_workers(quiet_main, [(quiet_specs, channel_id)])
        flood_workers = start_workers(
            flood_main,
            [(flood_specs[n :: args.flood_workers], channel_id, args.cut_off) for n in range(args.flood_workers)],
        )
        workers = quiet_workers + flood_workers
        if redis_channel:
            wait_until_subscribed(args.redis, redis_channel, len(servers))

        start = time.time() + 1.0
        bounds = [start + n * args.duration for n in range(4)]  # quiet, flood, after
        for parent, _ in quiet_workers:
            parent.send(("run", {"start": bounds[0], "stop": bounds[3], "rate": args.rate}))
        per_socket = args.flood_rate / args.sockets
        for parent, _ in flood_workers:
            parent.send(("run", {"start": bounds[1], "stop": bounds[2], "rate": per_socket}))

        def cpu() -> dict:
            return {
                "server": sum(server.cpu_seconds() for server in servers),
                "flood": sum(process_cpu_seconds(process.pid) for _, process in flood_workers),
                "quiet": sum(process_cpu_seconds(process.pid) for _, process in quiet_workers),
                "machine": machine_busy_seconds(),
            }

        marks = []
        for bound in bounds:
            time.sleep(max(0.0, bound - time.time()))
            marks.append(cpu())
        flood_counts = [parent.recv()[1] for parent, _ in flood_workers]
        quiet_results = [parent.recv()[1] for parent, _ in quiet_workers]
        samples = [sample for part, _sent in quiet_results for sample in part]
        quiet_sent = sum(sent for _part, sent in quiet_results)
    finally:
        for _, process in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        for server in servers:
            server.stop()

    codes: Counter = Counter()
    totals: Counter = Counter()
    for part in flood_counts:
        codes.update(part.pop("codes"))
        totals.update(part)
    phases = {}
    print(
        f"{'phase':6}  {'acks':>5}  {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  errors  "
        f"cores busy: server, flood clients, quiet clients, machine (of {os.cpu_count()})"
    )
    for n, name in enumerate(["quiet", "flood", "after"]):
        result = phases[name] = summarize(samples, bounds[n], bounds[n + 1])
        seconds = args.duration
        used = {key: (marks[n + 1][key] - marks[n][key]) / seconds for key in marks[n]}
        print(
            f"{name:6}  {result['count']:5d}  {result['p50']:8.1f} {result['p95']:8.1f} {result['p99']:8.1f} "
            f"{result['max']:8.1f}  {result['errors'] or '-'}  "
            f"{used['server']:.2f}, {used['flood']:.2f}, {used['quiet']:.2f}, {used['machine']:.2f}"
        )
    print(
        f"quiet sends: {quiet_sent}, acked {len(samples)} (unacked within {SETTLE_TIMEOUT} s after the end: "
        f"{quiet_sent - len(samples)})"
    )
    sent = totals.pop("sent", 0)
    print(
        f"flood: {sent} events sent ({sent / args.duration:.0f}/s) from {args.sockets} sockets; "
        f"acks {dict(codes)}; " + ", ".join(f"{key} {value}" for key, value in sorted(totals.items()))
    )
    ratio = phases["flood"]["p99"] / phases["quiet"]["p99"]
    after = phases["after"]["p99"] / phases["quiet"]["p99"]
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(
        f"quiet users' p99 flood / quiet: {ratio:.2f} ({phases['flood']['p99']:.1f} / {phases['quiet']['p99']:.1f} ms)"
        f"  target <= {TARGET_RATIO:g}: {verdict};  after / quiet: {after:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quiet", type=int, default=6, help="quiet users (default 6)")
    parser.add_argument("--rate", type=float, default=4, help="chat_send per second per quiet user (default 4)")
    parser.add_argument("--flood-rate", type=float, default=2000, help="flood events per second (default 2000)")
    parser.add_argument("--sockets", type=int, default=8, help="the flooder's sockets (default 8)")
    parser.add_argument("--flood-workers", type=int, default=2, help="processes sending the flood (default 2)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per phase (default 10)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--redis", metavar="REDIS_URL", help="two server processes sharing this Redis")
    parser.add_argument("--cut-off", action="store_true", help="the server's cut-off defaults; the flooder reconnects")
    parser.add_argument("--root", help="start wsgi.py from this checkout instead (the data is made by this one)")
    parser.add_argument("--wrapper", help="start the server as `python WRAPPER wsgi.py` (a profiler)")
    args = parser.parse_args()
    print(
        f"cores: {os.cpu_count()}  database: {args.database}  server processes: {2 if args.redis else 1}  "
        f"server code: {args.root or ROOT}  quiet users: {args.quiet} at {args.rate:g}/s  "
        f"flood: {args.flood_rate:g}/s from {args.sockets} sockets in {args.flood_workers} processes  "
        f"cut-off: {'server defaults, flooder reconnects' if args.cut_off else 'off'}  phases: {args.duration:g} s"
    )
    print("load average before the run: " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        run(args, tmp)


if __name__ == "__main__":
    main()
