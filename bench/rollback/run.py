#!/usr/bin/env python3
"""Rollback time: from the failing analysis measurement to the routing table without the candidate.

Starts a release `slipway server` on a scratch data folder with two upstream V2 servers (a good one
for the stable variant, one answering 500 to every request for the candidate), sends traffic through
the gateway, and runs ROUNDS canary rollouts whose error-rate analysis fails; each rollback's time
(`rollbackMilliseconds`, measured by the controller from the failing measurement to the installed
routing table) is read from the rollout's status. Between rounds `rollout retry` starts the rollout
again. Prints medians, p90 and the maximum, and the section for BENCHMARKS.md.
"""
import json, os, subprocess, sys, tempfile, threading, time, urllib.request, http.server, statistics, socketserver

BIN = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
folder = tempfile.mkdtemp(prefix="slipway-rollback-")
ANSWER = json.dumps({"model_name": "m", "outputs": [{"name": "label", "shape": [1], "datatype": "INT64", "data": [1]}]}).encode()


def upstream(status):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, code, body):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.reply(200, b'{"ready": true}')

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.reply(status, ANSWER if status == 200 else b'{"error": "broken"}')

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


good, bad = upstream(200), upstream(500)
ready = os.path.join(folder, "ready.json")
data = os.path.join(folder, "data")
log = open(os.path.join(folder, "server.log"), "w")
server = subprocess.Popen([BIN, "server", "--data-dir", data, "--port", "0", "--gateway-port", "0", "--ready-file", ready, "--log-level", "warning"],
                          stdout=log, stderr=subprocess.STDOUT)
try:
    for _ in range(300):
        if os.path.exists(ready) and os.path.getsize(ready) > 0:
            break
        time.sleep(0.05)
    info = json.load(open(ready))
    gateway = info["gateway"]
    env = dict(os.environ)

    def cli(*args):
        result = subprocess.run([BIN, *args, "--data-dir", data], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise SystemExit(f"slipway {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    artifact = os.path.join(folder, "model.bin")
    open(artifact, "wb").write(b"model")
    cli("models", "create", "m")
    for _ in range(2):
        cli("versions", "create", "m", "--artifact", artifact, "--no-probe")
    cli("endpoints", "create", "e")
    cli("deploy", "e", "--variant", "stable", "--model", "m@1", "--backend", f"http://127.0.0.1:{good}")
    spec = os.path.join(folder, "rollout.yml")
    open(spec, "w").write(f"""name: broken
endpoint: e
candidate: {{model: m, version: 2, backend: "http://127.0.0.1:{bad}"}}
strategy:
  canary:
    steps:
      - setWeight: 50
      - analysis: {{templates: [{{templateName: errors}}]}}
---
kind: AnalysisTemplate
metadata: {{name: errors}}
spec:
  metrics:
    - name: error-rate
      interval: 1s
      count: 60
      inconclusiveLimit: 60
      failureCondition: result > 0.1
      provider: {{builtin: {{metric: error-rate, minSamples: 20}}}}
""")
    stop = threading.Event()

    def traffic():
        body = json.dumps({"inputs": [{"name": "x", "shape": [1, 1], "datatype": "FP32", "data": [1.0]}]}).encode()
        while not stop.is_set():
            try:
                request = urllib.request.Request(gateway.rstrip("/") + "/v2/models/e/infer", data=body, headers={"Content-Type": "application/json"})
                urllib.request.urlopen(request, timeout=5).read()
            except Exception:
                pass

    threads = [threading.Thread(target=traffic, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    times = []
    cli("rollout", "start", "-f", spec)
    for round in range(ROUNDS):
        deadline = time.time() + 60
        while time.time() < deadline:
            status = json.loads(cli("rollout", "status", "broken", "--json"))
            if status["phase"] == "Degraded":
                break
            time.sleep(0.1)
        else:
            raise SystemExit(f"round {round}: the rollout did not roll back within 60 s: {status['reason']}")
        times.append(status["rollbackMilliseconds"])
        print(f"round {round + 1}: rolled back {status['rollbackMilliseconds']:.2f} ms after the failing measurement", file=sys.stderr)
        if round + 1 < ROUNDS:
            cli("rollout", "retry", "broken")
    stop.set()
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(json.dumps({"rounds": len(times), "median_ms": statistics.median(times), "p90_ms": p90, "max_ms": max(times), "all_ms": times}))
finally:
    server.terminate()
    server.wait(timeout=30)
