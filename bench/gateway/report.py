"""Turns the raw results of bench/gateway/run.sh (wrk.jsonl, paced.jsonl, split.json, meta.json in
the folder given as the only argument) into the gateway section of BENCHMARKS.md, printed on stdout."""

import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
meta = json.loads((out / "meta.json").read_text())
wrk = [json.loads(line) for line in (out / "wrk.jsonl").read_text().splitlines() if line.strip()]
paced = [json.loads(line) for line in (out / "paced.jsonl").read_text().splitlines() if line.strip()]
split = json.loads((out / "split.json").read_text())

med = statistics.median


def ms(us):
    return f"{us / 1000:.2f}"


def ms3(us):
    return f"{us / 1000:.3f}"


def errors(rows):
    return sum(r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"] for r in rows)


def non_2xx(rows):
    return sum(r["non_2xx_3xx"] for r in rows)


def rows_of(side, conns):
    return [r for r in wrk if r["side"] == side and r["connections"] == conns]


headline = meta["headline"]
connections = sorted({r["connections"] for r in wrk if r["side"] != "direct"})
lines = []
w = lines.append

w("## Gateway (bench/gateway)")
w("")
w("Slipway's gateway against nginx as a weighted reverse proxy, in front of the same fast upstream and")
w("under the same load, in one run. The upstream is one nginx (1 worker) with two servers, variant a and")
w("variant b, that answer every `POST /v2/models/*/infer` with a fixed V2 answer. The nginx proxy splits")
w("50/50 with `split_clients` on `X-User-Id`, keeps upstream connections alive (`upstream { keepalive N; }`,")
w("`proxy_http_version 1.1`, `Connection \"\"`), rewrites the path to the variant's model name and adds")
w("`X-Request-Id` and `X-Variant`, with `access_log off`. Slipway serves endpoint `bench` with variants a and")
w("b (`traffic set bench a=50 b=50`, sticky key `X-User-Id`), whose `--backend` URLs point at the two")
w("upstream servers; it also checks each body is a V2 request and adds `X-Request-Id`, `X-Slipway-Variant`")
w("and `X-Slipway-Model-Version`. wrk POSTs a 96-byte V2 body to `/v2/models/bench/infer` with `X-User-Id`")
w(f"taken in turn from {meta['users']:,} ids (`bench/gateway/infer.lua`).")
w("")
placement = (
    "nothing pinned: wrk, the upstream and the proxy share both CPUs; the nginx proxy runs "
    f"`worker_processes {meta['proxy_workers']}` (2 here), Slipway its gateway threads on epoll (one per CPU, 2 here)"
    if meta["pin"] == 0
    else "the proxy pinned to CPU 0 (nginx `worker_processes 1`; Slipway's 2 gateway threads), wrk, the upstream "
    "and the fixed-rate load generator to CPU 1 (`taskset`)"
)
w(f"- Machine: {meta['nproc']} CPUs (`nproc`), CPU model \"{meta['cpu_model']}\", {meta['mem_gib']} GiB RAM, "
  f"`{meta['uname']}`. Load average {meta['load_start']} at the start, {meta['load_end']} at the end "
  "(1, 5, 15 min; the machine is shared).")
w(f"- Date: {meta['start']} to {meta['end']}. Command: `{meta['command']}` "
  f"(rounds of {meta['duration']} s, wrk `-t{meta['threads']} -c<N> --latency`, sides alternating which goes "
  "first, after an uncounted warm-up; medians of the rounds).")
w(f"- Versions: nginx {meta['nginx_version']} (Debian), wrk {meta['wrk_version']} (Debian), slipway "
  f"{meta['slipway_version'] or '?'}, release build of commit {meta['slipway_commit']}.")
w(f"- CPU placement: {placement}. Every process the benchmark starts (upstream, both proxies, wrk, the "
  f"load generator) runs at niceness {meta['nice']}, so that other work on the machine takes less of the CPUs; "
  "it applies to both sides alike (set per thread: Slipway's gateway and worker threads do not inherit the "
  "process's niceness; its prediction-log writer keeps the distance below the process that Slipway gives it).")
logged = meta["predictions_logged"]
if logged.isdigit() and int(logged) > 0:
    logging_note = (f"the prediction log held {int(logged):,} records for the endpoint after the throughput rounds, "
                    f"for {meta['slipway_requests']:,} requests Slipway had answered by then (split check, warm-up, rounds)")
else:
    logging_note = (f"the prediction log held {logged} records for the endpoint after {meta['slipway_requests']:,} "
                    "answered requests: this binary does not log predictions, so these numbers are without logging")
w(f"- Prediction logging: endpoint setting `featureLogging = {meta['feature_logging']}`; {logging_note}.")
w(f"- Split check before the load (400 requests, one per user; variant header and the upstream's own "
  f"`X-Upstream` header agree on every answer): nginx a={split['nginx'].get('a', 0)} b={split['nginx'].get('b', 0)}, "
  f"Slipway a={split['slipway'].get('a', 0)} b={split['slipway'].get('b', 0)}.")
w("")
w("### Throughput (wrk, closed loop)")
w("")
w("| connections | nginx req/s | Slipway req/s | Slipway / nginx | nginx p50 / p99 ms | Slipway p50 / p99 ms "
  "| proxy CPU per request, nginx / Slipway | errors, non-2xx |")
w("|---:|---:|---:|---:|---:|---:|---:|---:|")
ratios = {}
for c in connections:
    n, s = rows_of("nginx", c), rows_of("slipway", c)
    if not n or not s:
        continue
    nr, sr = med(r["rps"] for r in n), med(r["rps"] for r in s)
    ratios[c] = sr / nr
    mark = "**" if c == headline else ""
    w(f"| {mark}{c}{mark} | {nr:,.0f} | {sr:,.0f} | {mark}{sr / nr:.2f}{mark} "
      f"| {ms(med(r['p50_us'] for r in n))} / {ms(med(r['p99_us'] for r in n))} "
      f"| {ms(med(r['p50_us'] for r in s))} / {ms(med(r['p99_us'] for r in s))} "
      f"| {med(r['proxy_cpu_us_per_request'] for r in n):.0f} / {med(r['proxy_cpu_us_per_request'] for r in s):.0f} µs "
      f"| {errors(n) + errors(s)}, {non_2xx(n) + non_2xx(s)} |")
w("")
per_round = []
for side in ("nginx", "slipway"):
    values = ", ".join(f"{r['rps']:,.0f}" for r in rows_of(side, headline))
    per_round.append(f"{'nginx' if side == 'nginx' else 'Slipway'} {values}")
w(f"Per round at {headline} connections (req/s): " + "; ".join(per_round) + ".")
direct = [r for r in wrk if r["side"] == "direct"]
if direct:
    d = direct[0]
    w(f"For reference, wrk straight at one upstream server with {d['connections']} connections: "
      f"{d['rps']:,.0f} req/s, p50 {ms(d['p50_us'])} ms, p99 {ms(d['p99_us'])} ms (the upstream spent "
      f"{d['proxy_cpu_us_per_request']:.0f} µs of CPU per request).")
w("\"Proxy CPU per request\" is the user + system CPU time of the proxy's processes (nginx master and")
w("workers; the whole `slipway server`) during the round, divided by the requests wrk completed: it is")
w("less sensitive than req/s to whatever else the shared machine runs.")
w("")
w("### Latency at a fixed rate")
w("")
w(f"Debian has no wrk2, so `bench/gateway/paced.c` (built by the script) sends at a constant rate, open loop:")
w("request k is due at start + k / rate whatever the answers do, and its latency is measured from that due")
w("time, so a stall is charged in full (no coordinated omission). "
  f"{headline} keep-alive connections, one request in flight on each, the same body and user pool; 2 s of")
w(f"warm-up per run are not counted. The rate is half of nginx's median peak at {headline} connections")
w(f"({meta['nginx_peak']:,.0f} req/s → {meta['rate']:,} req/s). Added latency = p99 through the proxy − p99 of")
w("the same load sent straight to one upstream server (medians over the rounds; the sides alternate).")
w("\"Generator woke late\" is the longest the load generator itself was kept from running when a request")
w("was due: the machine's noise, which every row carries. \"Waiting for a connection\" is the most due requests")
w("that could not be sent because all connections still waited for answers: the server held them back.")
w("")
w("| rate req/s | side | achieved req/s | p50 ms | p99 ms | p99.9 ms | added p99 ms | generator woke late, max ms | most requests waiting for a connection | non-2xx, errors, unanswered |")
w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
added = {}
for rate in sorted({r["target_rate"] for r in paced}, reverse=True):
    base = [r for r in paced if r["target_rate"] == rate and r["side"] == "direct"]
    base_p99 = med(r["p99_us"] for r in base) if base else None
    for side in ("direct", "nginx", "slipway"):
        rs = [r for r in paced if r["target_rate"] == rate and r["side"] == side]
        if not rs:
            continue
        p99 = med(r["p99_us"] for r in rs)
        extra = "—" if side == "direct" or base_p99 is None else ms3(p99 - base_p99)
        if side != "direct" and base_p99 is not None:
            added[(rate, side)] = (p99 - base_p99) / 1000
        label = {"direct": "direct to upstream", "nginx": "nginx", "slipway": "Slipway"}[side]
        w(f"| {rate:,} | {label} | {med(r['achieved_rps'] for r in rs):,.0f} | {ms3(med(r['p50_us'] for r in rs))} "
          f"| {ms3(p99)} | {ms3(med(r['p999_us'] for r in rs))} | {extra} | {ms(med(r.get('max_wakeup_lag_us', r['max_send_lag_us']) for r in rs))} "
          f"| {med(r.get('max_waiting_for_connection', 0) for r in rs):,.0f} "
          f"| {sum(r['non_2xx'] for r in rs)}, {sum(r['errors'] for r in rs)}, {sum(r['unanswered'] for r in rs)} |")
w("")
rounds = {}
for r in paced:
    rounds.setdefault((r["target_rate"], r["side"]), []).append(f"{r['p99_us'] / 1000:.3f}")
w("p99 per round (ms): " + "; ".join(
    f"{side} at {rate:,}/s {', '.join(v)}" for (rate, side), v in sorted(rounds.items(), key=lambda kv: (-kv[0][0], kv[0][1]))) + ".")
w("")
w("### Targets")
w("")
ratio = ratios.get(headline)
w("| target | result |")
w("|---|---|")
if ratio is not None:
    verdict = "met" if ratio >= 1.0 else "**not met**"
    w(f"| Slipway throughput ≥ nginx's (ratio ≥ 1.0) at {headline} connections, prediction logging on "
      f"| {ratio:.2f} — {verdict}{'' if logged.isdigit() and int(logged) > 0 else ' (measured without logging: this binary writes no prediction records)'} |")
key = (meta["rate"], "slipway")
if key in added:
    a = added[key]
    verdict = "met" if a < 1.0 else "**not met**"
    achieved = med(r["achieved_rps"] for r in paced if r["target_rate"] == meta["rate"] and r["side"] == "slipway")
    why = ""
    if achieved < 0.95 * meta["rate"]:
        why = (f"; Slipway cannot carry this rate (it answered {achieved:,.0f} req/s, its closed-loop peak is "
               f"{meta['slipway_peak']:,.0f}), so requests queue and the latency is the queue's")
    w(f"| p99 added latency < 1 ms at half of nginx's peak ({meta['rate']:,} req/s) | {a:,.3f} ms — {verdict}{why} "
      f"(nginx at the same rate: {added.get((meta['rate'], 'nginx'), float('nan')):.3f} ms) |")
    for rate in sorted({r["target_rate"] for r in paced}):
        if rate != meta["rate"] and (rate, "slipway") in added:
            w(f"| (for information) p99 added latency at half of Slipway's own peak ({rate:,} req/s) "
              f"| {added[(rate, 'slipway')]:.3f} ms (nginx at the same rate: {added.get((rate, 'nginx'), float('nan')):.3f} ms) |")
print("\n".join(lines))
