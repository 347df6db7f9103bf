"""Measurements of `slipway server` alone (no peer to compare with).

  startup   time from starting `slipway server` on an empty folder to its first answer
  load      register many versions through the native API (/api/v1), several keep-alive connections
  search    latency of a filtered search over those versions (or of any GET path); server side from the
            `Server-Timing: app;dur=<ms>` header when the server sends it, client side always; with checksums of
            the first answer (its values, and its bytes) to compare two builds

Each command prints one JSON object.
"""

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import http.client


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return None
    index = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def startup(args):
    """Starts the server `runs` times, each on a fresh folder, and times the first answered request."""
    times, ready_times = [], []
    usage = subprocess.run([args.bin, "server", "--help"], capture_output=True, text=True, timeout=60)
    # Newer builds also start the inference gateway, on a fixed port unless told otherwise.
    extra = ["--gateway-port", "0"] if "--gateway-port" in usage.stdout + usage.stderr else []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="slipway-start-") as folder:
            ready = os.path.join(folder, "ready.json")
            command = [args.bin, "server", "--port", "0", "--data-dir", os.path.join(folder, "data"),
                       "--ready-file", ready, "--log-level", "warning", *extra]
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                url, answered = None, None
                deadline = start + 30
                while time.perf_counter() < deadline and answered is None:
                    if process.poll() is not None:
                        raise SystemExit(f"slipway server exited with status {process.returncode} during start")
                    if url is None:
                        try:
                            with open(ready) as handle:
                                url = json.load(handle)["api"]
                            ready_times.append(time.perf_counter() - start)
                        except (OSError, ValueError, KeyError):
                            time.sleep(0.001)
                            continue
                    parsed = urllib.parse.urlparse(url)
                    try:
                        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
                        connection.request("GET", "/health")
                        if connection.getresponse().status == 200:
                            answered = time.perf_counter() - start
                        connection.close()
                    except OSError:
                        time.sleep(0.001)
                if answered is None:
                    raise SystemExit("slipway server did not answer within 30 s")
                times.append(answered)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    print(json.dumps({
        "runs": args.runs,
        "first_answer_ms": {"median": round(statistics.median(times) * 1000, 1), "min": round(min(times) * 1000, 1),
                            "max": round(max(times) * 1000, 1)},
        "ready_file_ms_median": round(statistics.median(ready_times) * 1000, 1),
    }))


class Connection:
    """One keep-alive HTTP/1.1 connection with the bearer token."""

    def __init__(self, url, token):
        parsed = urllib.parse.urlparse(url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        self.connection.request(method, path, body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, response.headers, payload


def load(args):
    """Registers `versions` versions spread over `models` models, with tags, parameters and metrics."""
    rng = random.Random(args.seed)
    teams = ["nlp", "vision", "search", "ads"]
    setup = Connection(args.url, args.token)
    names = [f"{args.prefix}-{index:04d}" for index in range(args.models)]
    for name in names:
        status, _, payload = setup.call("POST", "/api/v1/models", {"name": name, "description": "bench/registry load"})
        if status not in (201, 409):
            raise SystemExit(f"creating {name}: {status} {payload[:300]!r}")
    per_model = args.versions // args.models
    plans = []
    for name in names:
        rows = []
        for index in range(per_model):
            rows.append({
                "source": f"s3://bench-bucket/{name}/{index + 1}",
                "tags": {"team": rng.choice(teams), "dataset": f"reviews-{rng.randrange(20)}"},
                "lineage": {"metrics": {"accuracy": round(rng.uniform(0.5, 1.0), 4), "f1": round(rng.uniform(0.4, 1.0), 4)},
                            "parameters": {"max_depth": str(rng.randrange(2, 12)), "lr": str(rng.choice([0.1, 0.01, 0.001]))}},
            })
        plans.append((name, rows))
    deadline = time.monotonic() + args.time_limit
    errors, done = [], [0]
    lock = threading.Lock()

    def worker(share):
        connection = Connection(args.url, args.token)
        for name, rows in share:
            path = f"/api/v1/models/{urllib.parse.quote(name)}/versions"
            for row in rows:
                if time.monotonic() > deadline:
                    errors.append("time limit reached")
                    return
                status, _, payload = connection.call("POST", path, row)
                if status != 201:
                    errors.append(f"{status} {payload[:300]!r}")
                    return
            with lock:
                done[0] += len(rows)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(plans[i::args.connections],)) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        raise SystemExit(f"load failed after {done[0]} versions: {errors[0]}")
    print(json.dumps({"models": args.models, "versions": done[0], "seconds": round(seconds, 1),
                      "versions_per_s": round(done[0] / seconds, 1)}))


def search(args):
    """Times `count` identical filtered searches (after `warmup` untimed ones) on one keep-alive connection."""
    connection = Connection(args.url, args.token)
    query = urllib.parse.urlencode({"filter": args.filter, "limit": str(args.limit)}, quote_via=urllib.parse.quote)
    path = args.path or f"/api/v1/versions?{query}"
    server, client, found, first_payload = [], [], None, None
    deadline = time.monotonic() + args.time_limit
    for index in range(args.warmup + args.count):
        if time.monotonic() > deadline:
            raise SystemExit("time limit reached")
        start = time.perf_counter()
        status, headers, payload = connection.call("GET", path)
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            raise SystemExit(f"search answered {status}: {payload[:300]!r}")
        if index < args.warmup:
            continue
        client.append(elapsed)
        timing = headers.get("Server-Timing")
        if timing and "dur=" in timing:
            server.append(float(timing.split("dur=")[1].split(";")[0].split(",")[0]))
        if found is None and not args.path:
            found = len(json.loads(payload).get("items", []))
        if first_payload is None:
            first_payload = payload

    def stats(values):
        return {"p50": round(percentile(values, 50), 3), "p90": round(percentile(values, 90), 3),
                "p99": round(percentile(values, 99), 3), "max": round(max(values), 3)}

    result = {"path": path, "limit": args.limit, "count": args.count, "warmup": args.warmup,
              "items_per_answer": found, "client_ms": stats(client)}
    result["server_ms"] = stats(server) if len(server) == len(client) else None
    # Two builds answered the same if the first checksum matches (same values, whatever the key order or number
    # format); the second also tells whether the bytes were the same.
    result["answer_sha256"] = hashlib.sha256(json.dumps(json.loads(first_payload), sort_keys=True).encode()).hexdigest()[:16]
    result["bytes_sha256"] = hashlib.sha256(first_payload).hexdigest()[:16]
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("startup")
    start.add_argument("--bin", required=True)
    start.add_argument("--runs", type=int, default=10)
    fill = sub.add_parser("load")
    fill.add_argument("--url", required=True)
    fill.add_argument("--token", required=True)
    fill.add_argument("--versions", type=int, default=100_000)
    fill.add_argument("--models", type=int, default=100)
    fill.add_argument("--connections", type=int, default=4)
    fill.add_argument("--prefix", default="load")
    fill.add_argument("--seed", type=int, default=7)
    fill.add_argument("--time-limit", type=float, default=1200)
    find = sub.add_parser("search")
    find.add_argument("--url", required=True)
    find.add_argument("--token", required=True)
    find.add_argument("--filter", default="tags.team = 'nlp' AND metrics.accuracy > 0.9")
    find.add_argument("--limit", type=int, default=100)
    find.add_argument("--count", type=int, default=1000)
    find.add_argument("--warmup", type=int, default=20)
    find.add_argument("--path", help="time GET requests of this path instead (e.g. an MLflow alias lookup)")
    find.add_argument("--time-limit", type=float, default=600)
    args = parser.parse_args()
    {"startup": startup, "load": load, "search": search}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
