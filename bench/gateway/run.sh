#!/usr/bin/env bash
# Gateway benchmark: Slipway's inference gateway against nginx as a weighted reverse proxy, in front
# of the same fast upstream, driven by the same load, in one run.
#
#   upstream   one nginx (1 worker) with two servers, variant a and variant b, each answering every
#              POST /v2/models/*/infer with a fixed V2 answer (and an X-Upstream: a|b header)
#   nginx      a second nginx: split_clients 50/50 on X-User-Id, keep-alive upstream pools
#              (`keepalive N`, proxy_http_version 1.1, Connection ""), path rewritten to the
#              variant's model name, X-Request-Id and X-Variant added; access_log off
#   slipway    `slipway server`, endpoint `bench` with variants a and b (a=50 b=50) whose --backend
#              URLs point at the two upstream servers; sticky key X-User-Id; prediction logging as
#              the endpoint's --feature-logging says (FEATURE_LOGGING, default hashed = on)
#
# Throughput: wrk --latency with bench/gateway/infer.lua (a small V2 body POSTed to
# /v2/models/bench/infer, X-User-Id from a fixed pool of $USERS ids), same -t/-c for both
# proxies, ROUNDS rounds of DURATION seconds per connection count, the side that goes first
# alternating, after an uncounted warm-up; medians of the rounds.
# Latency at a fixed rate: bench/gateway/paced.c (open loop, latency from each request's due time;
# Debian has no wrk2) at half of nginx's median peak, and also at half of Slipway's when that is
# lower: directly against the upstream and through each proxy, alternating; added latency = p99
# through the proxy - p99 direct.
# Before the load, 400 requests through each proxy check that both split between the two upstream
# servers; after the throughput rounds, the rows of the prediction log show whether Slipway logged.
#
# Usage: bench/gateway/run.sh [DURATION_SECONDS] [ROUNDS]          (defaults 10 and 3)
#   CONNECTIONS   wrk connection counts to try (default "32 64 128"); HEADLINE picks the one the
#                 summary and the fixed-rate part use (default 64)
#   THREADS       wrk threads (default 2)       USERS   size of the X-User-Id pool (default 1000)
#   PIN           0 (default): nothing pinned, both proxies may use both CPUs (nginx worker_processes
#                 auto, Slipway's two gateway threads); 1: the proxy on CPU 0 (nginx 1 worker), wrk, the
#                 load generator and the upstream on CPU 1
#   NICE          niceness of everything the benchmark starts (default -20 as root, else 0): on a
#                 shared machine it keeps other work from deciding the result, equally for both sides
#   FEATURE_LOGGING  off | hashed | full (default hashed)
#   SLIPWAY_BIN   a release slipway binary (default: build one with swift build -c release);
#                 SLIPWAY_COMMIT says which commit it was built from (for the report)
#   OUT           where raw results go (default: a temporary folder, printed at the end)
#   WRITE         1 (default): replace the gateway section of BENCHMARKS.md; 0: only print it
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

# The command as given, for the report (settings from the environment included).
GIVEN=""
for name in PIN CONNECTIONS HEADLINE THREADS USERS NICE FEATURE_LOGGING; do
    if [ -n "${!name+x}" ]; then
        case ${!name} in *" "*) GIVEN+="$name='${!name}' " ;; *) GIVEN+="$name=${!name} " ;; esac
    fi
done
[ -n "${SLIPWAY_BIN:-}" ] && GIVEN+="SLIPWAY_BIN=<release slipway> "
COMMAND="${GIVEN}bench/gateway/run.sh $*"
DURATION=${1:-10}
ROUNDS=${2:-3}
CONNECTIONS=${CONNECTIONS:-"32 64 128"}
HEADLINE=${HEADLINE:-64}
THREADS=${THREADS:-2}
USERS=${USERS:-1000}
PIN=${PIN:-0}
FEATURE_LOGGING=${FEATURE_LOGGING:-hashed}
WRITE=${WRITE:-1}
WARMUP=${WARMUP:-3}
if [ "$(id -u)" = 0 ]; then NICE=${NICE:--20}; else NICE=${NICE:-0}; fi
ENDPOINT=bench
BODY='{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}'
ANSWER='{"model_name":"m","outputs":[{"name":"predict","shape":[1],"datatype":"INT64","data":[1]}]}'

for tool in nginx wrk curl python3 cc taskset; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool (apt-get install -y nginx wrk curl python3 gcc util-linux)" >&2
        exit 1
    }
done
case " $CONNECTIONS " in *" $HEADLINE "*) ;; *) echo "HEADLINE=$HEADLINE is not one of CONNECTIONS=\"$CONNECTIONS\"" >&2; exit 1 ;; esac

if [ -z "${SLIPWAY_BIN:-}" ]; then
    echo "building slipway (release)…" >&2
    swift build -c release --product slipway >&2
    SLIPWAY_BIN="$(swift build -c release --show-bin-path)/slipway"
    SLIPWAY_COMMIT=${SLIPWAY_COMMIT:-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo " with local changes")}
fi
SLIPWAY_COMMIT=${SLIPWAY_COMMIT:-unknown}

WORK=$(mktemp -d /tmp/slipway-gateway-bench.XXXXXX)
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK/upstream" "$WORK/proxy" "$WORK/slipway" "$WORK/paced"
    rmdir "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()"
}
wait_port() {  # $1 port: until something accepts connections on it (at most 20 s)
    local start=$SECONDS
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        if (( SECONDS - start > 20 )); then echo "nothing listens on port $1" >&2; return 1; fi
        sleep 0.05
    done
}
# CPU placement: the proxy on one side, everything else on the other (only with PIN=1).
if [ "$PIN" = 1 ]; then
    ON_PROXY=(nice -n "$NICE" taskset -c 0); ON_LOAD=(nice -n "$NICE" taskset -c 1); PROXY_WORKERS=1
else
    ON_PROXY=(nice -n "$NICE"); ON_LOAD=(nice -n "$NICE"); PROXY_WORKERS=auto
fi
max_conns=0
for c in $CONNECTIONS; do if (( c > max_conns )); then max_conns=$c; fi; done

# The load generator for the fixed-rate part.
cc -O2 -o "$WORK/paced" bench/gateway/paced.c -lm

# --- upstream: one nginx, two servers (variant a, variant b) ---------------------------------
UP_A=$(free_port); UP_B=$(free_port); PROXY_PORT=$(free_port)
mkdir -p "$WORK/upstream" "$WORK/proxy"
nginx_common() {  # $1 prefix folder
    cat <<EOF
daemon off;
pid $1/nginx.pid;
events { worker_connections 8192; }
EOF
}
temp_paths() {  # $1 prefix folder
    echo "client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fastcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"
}
{
    echo "worker_processes 1;"
    nginx_common "$WORK/upstream"
    cat <<EOF
http {
    access_log off;
    $(temp_paths "$WORK/upstream")
    keepalive_requests 10000000;
    keepalive_timeout 600s;
    default_type application/json;
    server {
        listen 127.0.0.1:$UP_A;
        location ~ ^/v2/models/[^/]+/infer\$ { add_header X-Upstream a; return 200 '$ANSWER'; }
    }
    server {
        listen 127.0.0.1:$UP_B;
        location ~ ^/v2/models/[^/]+/infer\$ { add_header X-Upstream b; return 200 '$ANSWER'; }
    }
}
EOF
} >"$WORK/upstream/nginx.conf"
"${ON_LOAD[@]}" nginx -p "$WORK/upstream" -e "$WORK/upstream/error.log" -c "$WORK/upstream/nginx.conf" >"$WORK/upstream/out.log" 2>&1 &
PIDS+=($!)
UPSTREAM_PID=$!

# --- nginx as the weighted reverse proxy -------------------------------------------------------
{
    echo "worker_processes $PROXY_WORKERS;"
    nginx_common "$WORK/proxy"
    cat <<EOF
http {
    access_log off;
    $(temp_paths "$WORK/proxy")
    keepalive_requests 10000000;
    keepalive_timeout 600s;
    split_clients "\${http_x_user_id}" \$variant { 50% a; * b; }
    upstream variant_a { server 127.0.0.1:$UP_A; keepalive $max_conns; keepalive_requests 10000000; keepalive_timeout 600s; }
    upstream variant_b { server 127.0.0.1:$UP_B; keepalive $max_conns; keepalive_requests 10000000; keepalive_timeout 600s; }
    server {
        listen 127.0.0.1:$PROXY_PORT;
        location ~ ^/v2/models/[^/]+/infer\$ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Request-Id \$request_id;
            proxy_pass http://variant_\$variant/v2/models/model-\$variant/infer;
            add_header X-Request-Id \$request_id;
            add_header X-Variant \$variant;
        }
    }
}
EOF
} >"$WORK/proxy/nginx.conf"
"${ON_PROXY[@]}" nginx -p "$WORK/proxy" -e "$WORK/proxy/error.log" -c "$WORK/proxy/nginx.conf" >"$WORK/proxy/out.log" 2>&1 &
PIDS+=($!)
NGINX_PID=$!
wait_port "$UP_A"; wait_port "$UP_B"; wait_port "$PROXY_PORT"

# --- slipway server with endpoint `bench`: variants a and b on the two upstream servers --------
mkdir -p "$WORK/slipway"
GATEWAY_FLAG=(); "$SLIPWAY_BIN" server --help | grep -q gateway-port && GATEWAY_FLAG=(--gateway-port 0)
"${ON_PROXY[@]}" "$SLIPWAY_BIN" server --port 0 "${GATEWAY_FLAG[@]}" --data-dir "$WORK/slipway/data" \
    --ready-file "$WORK/slipway/ready.json" --log-level warning >"$WORK/slipway/server.out" 2>&1 &
PIDS+=($!)
SLIPWAY_PID=$!
start=$SECONDS
until [ -s "$WORK/slipway/ready.json" ]; do
    if (( SECONDS - start > 60 )); then echo "slipway server did not start" >&2; cat "$WORK/slipway/server.out" >&2; exit 1; fi
    sleep 0.1
done
GATEWAY_URL=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['gateway'])" "$WORK/slipway/ready.json")
GATEWAY_PORT=${GATEWAY_URL##*:}
export SLIPWAY_DATA_DIR="$WORK/slipway/data"
printf 'a tiny model\n' >"$WORK/slipway/model.bin"
{
    "$SLIPWAY_BIN" endpoints create "$ENDPOINT" --variant a --sticky-header X-User-Id --feature-logging "$FEATURE_LOGGING"
    "$SLIPWAY_BIN" models create m
    "$SLIPWAY_BIN" versions create m --artifact "$WORK/slipway/model.bin" --no-probe
    "$SLIPWAY_BIN" versions create m --artifact "$WORK/slipway/model.bin" --no-probe
    "$SLIPWAY_BIN" deploy "$ENDPOINT" --variant a --model m@1 --backend "http://127.0.0.1:$UP_A/v2/models/model-a"
    "$SLIPWAY_BIN" deploy "$ENDPOINT" --variant b --model m@2 --backend "http://127.0.0.1:$UP_B/v2/models/model-b"
    "$SLIPWAY_BIN" traffic set "$ENDPOINT" a=50 b=50
} >"$OUT/setup.log"
if [ "$PIN" = 1 ]; then taskset -apc 0 "$SLIPWAY_PID" >/dev/null; fi
# Niceness is per thread, and the server's gateway and pool threads do not inherit the process's (they are
# started from a thread pool that sets its own): give every thread the benchmark's niceness, but for
# Slipway's prediction-log writer, which Slipway itself runs a few steps below its main thread (so that it
# never takes a CPU from the threads that answer requests): it keeps that distance.
renice_threads() {
    [ "$NICE" = 0 ] && return 0
    local pid task main own
    for pid in "$@"; do
        main=$(awk '{ sub(/^.*\) /, ""); print $17 }' /proc/"$pid"/stat)
        for task in /proc/"$pid"/task/*; do
            if [ "$(cat "$task"/comm 2>/dev/null)" = slipway-predlog ]; then
                own=$(awk '{ sub(/^.*\) /, ""); print $17 }' "$task"/stat 2>/dev/null) || continue
                renice -n $((NICE + own - main)) -p "${task##*/}" >/dev/null 2>&1 || true
            else
                renice -n "$NICE" -p "${task##*/}" >/dev/null 2>&1 || true
            fi
        done
    done
}
renice_threads "$SLIPWAY_PID"
URL_nginx="http://127.0.0.1:$PROXY_PORT"
URL_slipway="http://127.0.0.1:$GATEWAY_PORT"
URL_direct="http://127.0.0.1:$UP_A"
PORT_nginx=$PROXY_PORT; PORT_slipway=$GATEWAY_PORT; PORT_direct=$UP_A

# --- both proxies must split: 400 requests, one per user, counted by variant -------------------
: >"$OUT/split.tsv"
for side in nginx slipway; do
    url_var="URL_$side"
    for i in $(seq 1 400); do
        curl -s -o /dev/null -D - -X POST -H 'Content-Type: application/json' -H "X-User-Id: user-$i" \
            --data "$BODY" "${!url_var}/v2/models/$ENDPOINT/infer" | tr -d '\r' |
            awk -v side="$side" -v user="user-$i" '
                NR == 1 { status = $2 }
                tolower($1) == "x-upstream:" { upstream = $2 }
                tolower($1) == "x-variant:" || tolower($1) == "x-slipway-variant:" { variant = $2 }
                END { print side "\t" user "\t" status "\t" variant "\t" upstream }'
    done >>"$OUT/split.tsv"
done
python3 - "$OUT/split.tsv" <<'EOF'
import collections, json, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
report = {}
for side in ("nginx", "slipway"):
    mine = [r for r in rows if r[0] == side]
    counts = collections.Counter(r[4] for r in mine)
    bad = [r for r in mine if r[2] != "200" or r[3] != r[4] or r[4] not in ("a", "b")]
    report[side] = {"requests": len(mine), "a": counts["a"], "b": counts["b"], "mismatched_or_failed": len(bad)}
    if bad or min(counts["a"], counts["b"]) < 0.35 * len(mine):
        print(json.dumps(report), file=sys.stderr)
        sys.exit(f"{side} does not split 50/50 between the two upstreams: {bad[:3]}")
print(json.dumps(report))
EOF
python3 - "$OUT/split.tsv" >"$OUT/split.json" <<'EOF'
import collections, json, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print(json.dumps({side: dict(collections.Counter(r[4] for r in rows if r[0] == side)) for side in ("nginx", "slipway")}))
EOF

# CPU time (clock ticks) of a process and its children's threads: nginx master + workers, slipway.
cpu_ticks() {
    local total=0 pid
    for pid in $1 $(pgrep -P "$1" || true); do
        for task in /proc/"$pid"/task/*/stat; do
            total=$(( total + $(awk '{print $14 + $15}' "$task" 2>/dev/null || echo 0) ))
        done
    done
    echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)
PROXY_PID_nginx=$NGINX_PID; PROXY_PID_slipway=$SLIPWAY_PID; PROXY_PID_direct=$UPSTREAM_PID

run_wrk() {  # side connections seconds label
    local side=$1 conns=$2 seconds=$3 label=$4 url_var="URL_$1" pid_var="PROXY_PID_$1" endpoint=$ENDPOINT
    local before after
    [ "$side" = direct ] && endpoint=model-a
    before=$(cpu_ticks "${!pid_var}")
    ENDPOINT=$endpoint USERS=$USERS "${ON_LOAD[@]}" wrk -t"$THREADS" -c"$conns" -d"${seconds}s" --latency \
        -s bench/gateway/infer.lua "${!url_var}" >"$OUT/wrk-$label.txt" 2>&1
    after=$(cpu_ticks "${!pid_var}")
    python3 - "$OUT/wrk-$label.txt" "$side" "$conns" "$label" $(( after - before )) "$CLK_TCK" <<'EOF' >>"$OUT/wrk.jsonl"
import json, re, sys
path, side, conns, label, ticks, hz = sys.argv[1:]
text = open(path).read()
line = next(l for l in text.splitlines() if l.startswith("JSON "))
result = json.loads(line[5:])
result.update(side=side, connections=int(conns), label=label, proxy_cpu_s=int(ticks) / int(hz))
result["proxy_cpu_us_per_request"] = 1e6 * result["proxy_cpu_s"] / max(result["requests"], 1)
m = re.search(r"Requests/sec:\s+([\d.]+)", text)
result["wrk_requests_per_sec"] = float(m.group(1)) if m else None
print(json.dumps(result))
EOF
    tail -1 "$OUT/wrk.jsonl" | python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"  {d['label']}: {d['rps']:.0f} req/s, p50 {d['p50_us']/1000:.2f} ms, p99 {d['p99_us']/1000:.2f} ms, errors {d['errors_connect']+d['errors_read']+d['errors_write']+d['errors_timeout']}, non-2xx {d['non_2xx_3xx']}, proxy CPU {d['proxy_cpu_us_per_request']:.1f} µs/req\")" >&2
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)
: >"$OUT/wrk.jsonl"
echo "warm-up (${WARMUP}s per side, not counted)" >&2
for side in nginx slipway; do run_wrk "$side" "$HEADLINE" "$WARMUP" "warmup-$side"; done
mv "$OUT/wrk.jsonl" "$OUT/wrk-warmup.jsonl"
: >"$OUT/wrk.jsonl"
renice_threads "$SLIPWAY_PID"
ps -L -o pid,tid,ni,comm -p "$SLIPWAY_PID" "$NGINX_PID" $(pgrep -P "$NGINX_PID") "$UPSTREAM_PID" $(pgrep -P "$UPSTREAM_PID") >"$OUT/threads.txt"

for conns in $CONNECTIONS; do
    for round in $(seq 1 "$ROUNDS"); do
        if (( round % 2 == 1 )); then order="nginx slipway"; else order="slipway nginx"; fi
        echo "c=$conns round $round" >&2
        for side in $order; do run_wrk "$side" "$conns" "$DURATION" "$side-c$conns-r$round"; done
    done
done
# Did the gateway log predictions? Count the records in the prediction log's segment files (the benchmark
# has one endpoint; frames are read, not their records) against the requests Slipway answered so far: the
# split check, the warm-up and the rounds.
PREDICTIONS="unknown"
LOG_DIR="$WORK/slipway/data/metadata.sqlite-predictions"
if [ -d "$LOG_DIR" ]; then
    sleep 2
    PREDICTIONS=$(python3 -c "
import glob, struct, sys
total = 0
for path in sorted(glob.glob(sys.argv[1] + '/*.segment')):
    data = open(path, 'rb').read()
    at = 16
    while at + 24 <= len(data):
        magic, length, count = struct.unpack_from('<III', data, at)
        if magic != 0x31425053:  # a batch frame; a seal frame ends the segment
            break
        total += count
        at += 24 + length
print(total)" "$LOG_DIR")
fi
SLIPWAY_REQUESTS=$(python3 -c "
import json, sys
rows = [json.loads(l) for path in sys.argv[1:] for l in open(path)]
print(400 + sum(r['requests'] for r in rows if r['side'] == 'slipway'))" "$OUT/wrk-warmup.jsonl" "$OUT/wrk.jsonl")

# For reference: wrk straight at one upstream server (what the upstream and wrk manage without a proxy).
echo "direct to the upstream, c=$HEADLINE" >&2
run_wrk direct "$HEADLINE" "$DURATION" "direct-c$HEADLINE"

# --- fixed rate: half of nginx's median peak at the headline connection count ------------------
NGINX_PEAK=$(python3 -c "
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(statistics.median(r['rps'] for r in rows if r['side'] == 'nginx' and r['connections'] == int(sys.argv[2])))" "$OUT/wrk.jsonl" "$HEADLINE")
RATE=$(python3 -c "print(round(float('$NGINX_PEAK') / 2))")
: >"$OUT/paced.jsonl"
run_paced() {  # side rate round
    local side=$1 rate=$2 round=$3 port_var="PORT_$1" path="/v2/models/$ENDPOINT/infer"
    [ "$side" = direct ] && path="/v2/models/model-a/infer"
    "${ON_LOAD[@]}" "$WORK/paced" 127.0.0.1 "${!port_var}" "$path" "$rate" "$DURATION" "$HEADLINE" "$USERS" 2 "$BODY" |
        python3 -c "import json,sys; d=json.load(sys.stdin); d.update(side='$side', round=$round, target_rate=$rate); print(json.dumps(d))" \
        >>"$OUT/paced.jsonl"
    tail -1 "$OUT/paced.jsonl" | python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"  {d['side']} at {d['target_rate']}/s: achieved {d['achieved_rps']:.0f}/s, p50 {d['p50_us']/1000:.3f} ms, p99 {d['p99_us']/1000:.3f} ms, non-2xx {d['non_2xx']}, errors {d['errors']}, unanswered {d['unanswered']}\")" >&2
}
RATES=$RATE
SLIPWAY_PEAK=$(python3 -c "
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(statistics.median(r['rps'] for r in rows if r['side'] == 'slipway' and r['connections'] == int(sys.argv[2])))" "$OUT/wrk.jsonl" "$HEADLINE")
# If Slipway cannot reach nginx's peak, half of nginx's peak may overload it: measure at half of
# Slipway's own peak as well.
SLIPWAY_RATE=$(python3 -c "print(round(float('$SLIPWAY_PEAK') / 2))")
if python3 -c "import sys; sys.exit(0 if float('$SLIPWAY_PEAK') < 0.9 * float('$NGINX_PEAK') else 1)"; then RATES="$RATE $SLIPWAY_RATE"; fi
for rate in $RATES; do
    for round in $(seq 1 "$ROUNDS"); do
        case $(( round % 3 )) in 1) order="direct nginx slipway" ;; 2) order="slipway direct nginx" ;; 0) order="nginx slipway direct" ;; esac
        echo "fixed rate $rate/s, round $round" >&2
        for side in $order; do run_paced "$side" "$rate" "$round"; done
    done
done
END_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

cp "$WORK/proxy/nginx.conf" "$OUT/nginx-proxy.conf"
cp "$WORK/upstream/nginx.conf" "$OUT/nginx-upstream.conf"

cat >"$OUT/meta.json" <<EOF
{
  "duration": $DURATION, "rounds": $ROUNDS, "threads": $THREADS, "connections": "$CONNECTIONS", "headline": $HEADLINE,
  "users": $USERS, "pin": $PIN, "nice": $NICE, "proxy_workers": "$PROXY_WORKERS", "feature_logging": "$FEATURE_LOGGING",
  "start": "$START_TIME", "end": "$END_TIME", "load_start": "$LOAD_START", "load_end": "$LOAD_END",
  "nproc": $(nproc), "cpu_model": "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)",
  "mem_gib": $(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo), "uname": "$(uname -srm)",
  "nginx_version": "$(nginx -v 2>&1 | sed 's/.*nginx\///')", "wrk_version": "$(wrk -v 2>&1 | head -1 | awk '{print $2}')",
  "slipway_version": "$("$SLIPWAY_BIN" --version 2>/dev/null | head -1)",
  "slipway_commit": "$SLIPWAY_COMMIT",
  "nginx_peak": $NGINX_PEAK, "slipway_peak": $SLIPWAY_PEAK, "rate": $RATE,
  "predictions_logged": "$PREDICTIONS", "slipway_requests": $SLIPWAY_REQUESTS,
  "command": "$COMMAND"
}
EOF
python3 bench/gateway/report.py "$OUT" >"$OUT/section.md"
cat "$OUT/section.md"
if [ "$WRITE" = 1 ]; then
    python3 - "$ROOT/BENCHMARKS.md" "$OUT/section.md" <<'EOF'
import sys
path, section_path = sys.argv[1:]
text = open(path).read()
section = open(section_path).read().strip("\n")
begin, end = "<!-- bench:gateway -->", "<!-- /bench:gateway -->"
block = f"{begin}\n{section}\n{end}"
if begin in text and end in text:
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
EOF
    echo "wrote the gateway section of BENCHMARKS.md" >&2
fi
echo "raw results in $OUT" >&2
