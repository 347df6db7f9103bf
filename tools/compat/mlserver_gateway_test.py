"""Puts Slipway's gateway in front of real MLServer backends and drives it with the official
Triton client (`tritonclient.http`), unchanged.

Trains two different scikit-learn classifiers on examples/data/breast-cancer, serves both from one
MLServer process, registers them in a fresh `slipway server`, deploys them as variants `a` and `b`
of one endpoint with a 50/50 sticky split, and checks through the gateway:

- the client's health, readiness and metadata calls;
- every answer equals the direct answer of the MLServer model of the variant that served it (the
  two models answer every request differently, so an answer names the model that gave it), and
  the response headers name that variant and its model version;
- 400 users split 50/50 within ten points, each user staying on one variant over three requests
  and over a concurrent run on eight connections; the gateway's live metrics count them exactly;
- the pin header, compressed answers, a move to a=100 b=0, and a request in Triton's binary tensor
  extension (which MLServer does not implement), whose MLServer answer must arrive unchanged.

Checks of what the gateway does not do yet carry a `known_gap` mark: while they fail the way the
mark says, they count as skipped.

Run with the `.venvs/mlserver` interpreter (tools/python-envs.sh makes it); tools/compat-tests.sh
runs it. SLIPWAY_BIN names the slipway binary (default: .build/debug/slipway). Every check prints
one line; the last line reads `N passed, M failed[, K skipped]` and the exit status is non-zero when anything
failed. Both servers are stopped on exit, on failure too.
"""

import atexit
import csv
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

import joblib
import numpy as np
import tritonclient.http as triton
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from tritonclient.utils import InferenceServerException

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SLIPWAY_BIN = os.environ.get("SLIPWAY_BIN") or os.path.join(ROOT, ".build", "debug", "slipway")
DATA = os.path.join(ROOT, "examples", "data", "breast-cancer")
DEADLINE = time.monotonic() + 300  # the whole script must finish within five minutes

ENDPOINT = "tumor"
# The MLServer model behind each variant.
MODELS = {"a": "tumor-logreg", "b": "tumor-tree"}
INPUT = "features"
OUTPUT = "predict_proba"
USERS = 400
REPEATS = 3
BATCH = 4  # rows per request, so that the two models' answers always differ

passed = 0
failed = 0
skipped = 0
processes = []
stopping = False
scratch = tempfile.mkdtemp(prefix="slipway-mlserver-")


def check(title, body, known_gap=None):
    """Runs one check; an exception or a failed assertion counts as a failure. A check marked with
    `known_gap` = (what the gateway does not do yet, a text its failure shows) that fails with that
    text is reported and counted as skipped (any other failure is a failure); once it passes, the
    mark should go."""
    global passed, failed, skipped
    if time.monotonic() > DEADLINE:
        failed += 1
        print(f"FAIL {title}: the script ran over its time limit", flush=True)
        return None
    try:
        result = body()
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the run
        if os.environ.get("COMPAT_VERBOSE"):
            traceback.print_exc()
        if known_gap and known_gap[1] in str(error):
            skipped += 1
            print(f"skip {title}: known gap, {known_gap[0]}: {type(error).__name__}: {error}", flush=True)
        else:
            failed += 1
            print(f"FAIL {title}: {type(error).__name__}: {error}", flush=True)
        return None
    passed += 1
    print(f"ok   {title}" + (" (passes now: remove its known_gap mark)" if known_gap else ""), flush=True)
    return result


def summary():
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_equal(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


# Processes


def stop_processes():
    """Stops every process this script started (each leads its own process group), then the scratch folder."""
    global stopping
    stopping = True
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)
    processes.clear()
    shutil.rmtree(scratch, ignore_errors=True)


def on_signal(number, _frame):
    if not stopping:  # a second signal must not cut the clean-up short
        sys.exit(128 + number)  # runs stop_processes through atexit


atexit.register(stop_processes)
signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGHUP, on_signal)


def start(command, name, cwd=None):
    out = open(os.path.join(scratch, f"{name}.out"), "wb")
    err = open(os.path.join(scratch, f"{name}.err"), "wb")
    process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    processes.append(process)
    return process


def tail(name, stream="err", lines=30):
    try:
        with open(os.path.join(scratch, f"{name}.{stream}"), errors="replace") as file:
            return "".join(file.readlines()[-lines:])
    except OSError:
        return ""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def exchange(method, url, body=None, headers=None, timeout=30):
    """One plain HTTP exchange: (status, headers, body bytes). Only the given headers are sent (no
    default Content-Type, as with the Triton client), and error statuses are answers too."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def wait_until(condition, seconds, what, process=None, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}\n{tail(log) if log else ''}")
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not ready after {seconds} s\n{tail(log) if log else ''}")


# The models


def load(name):
    with open(os.path.join(DATA, name), newline="") as file:
        rows = list(csv.reader(file))
    header, values = rows[0], np.array(rows[1:], dtype=np.float64)
    target = header.index("target")
    return np.delete(values, target, axis=1), values[:, target].astype(int)


def train_models(repository):
    """Trains both classifiers and lays them out as an MLServer model repository; returns the local models."""
    x_train, y_train = load("train.csv")
    trained = {
        "a": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_train, y_train),
        "b": DecisionTreeClassifier(max_depth=3, random_state=0).fit(x_train, y_train),
    }
    for variant, model in trained.items():
        folder = os.path.join(repository, MODELS[variant])
        os.makedirs(folder)
        joblib.dump(model, os.path.join(folder, "model.joblib"))
        settings = {
            "name": MODELS[variant],
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib"},
            "inputs": [{"name": INPUT, "datatype": "FP64", "shape": [-1, x_train.shape[1]]}],
            "outputs": [{"name": OUTPUT, "datatype": "FP64", "shape": [-1, 2]}],
        }
        with open(os.path.join(folder, "model-settings.json"), "w") as file:
            json.dump(settings, file, indent=2)
    return trained


def start_mlserver(repository):
    """Starts one MLServer for the repository on free ports; returns its http URL (host:port)."""
    executable = os.path.join(os.path.dirname(sys.executable), "mlserver")
    last_error = None
    for attempt in range(3):  # a free port can be taken between the probe and MLServer's bind
        http_port, grpc_port = free_port(), free_port()
        settings = {
            "host": "127.0.0.1",
            "http_port": http_port,
            "grpc_port": grpc_port,
            # MLServer 1.7.1's worker pool does not start with current uvloop: infer in the server process.
            "parallel_workers": 0,
            "metrics_endpoint": None,
            "metrics_dir": os.path.join(scratch, "mlserver-metrics"),
            "environments_dir": os.path.join(scratch, "mlserver-envs"),
            "debug": False,
        }
        with open(os.path.join(repository, "settings.json"), "w") as file:
            json.dump(settings, file, indent=2)
        log = f"mlserver-{attempt}"
        process = start([executable, "start", repository], log, cwd=scratch)
        url = f"127.0.0.1:{http_port}"
        try:
            wait_until(lambda: exchange("GET", f"http://{url}/v2/health/ready", timeout=2)[0] == 200, 90, "MLServer", process, log)
            for model in MODELS.values():
                wait_until(lambda: exchange("GET", f"http://{url}/v2/models/{model}/ready", timeout=2)[0] == 200, 30, model, process, log)
            return url
        except RuntimeError as error:
            last_error = error
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
    raise RuntimeError(f"MLServer did not start: {last_error}")


def start_slipway():
    """Starts `slipway server` on a fresh data folder with port 0s; returns (api URL, gateway host:port, admin token)."""
    ready = os.path.join(scratch, "ready.json")
    process = start(
        [SLIPWAY_BIN, "server", "--port", "0", "--gateway-port", "0", "--data-dir", os.path.join(scratch, "slipway"),
         "--ready-file", ready, "--log-level", "warning"], "slipway")
    wait_until(lambda: os.path.getsize(ready) > 0, 30, "slipway server", process, "slipway")
    with open(ready) as file:
        announced = json.load(file)

    def admin_token():  # printed once, on the first start on an empty data folder
        with open(os.path.join(scratch, "slipway.out"), errors="replace") as file:
            found = re.search(r"slw_[0-9a-f]+", file.read())
        return found.group(0) if found else None

    wait_until(admin_token, 10, "the admin token", process, "slipway")
    token = admin_token()
    gateway = announced["gateway"].removeprefix("http://").rstrip("/")
    return announced["api"].rstrip("/"), gateway, token


class Slipway:
    """The slipway CLI against the server started above."""

    def __init__(self, api, token):
        self.api, self.token = api, token

    def __call__(self, *arguments):
        command = [SLIPWAY_BIN, *arguments, "--server", self.api, "--token", self.token, "--json"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"`slipway {' '.join(arguments)}` exited {result.returncode}: {result.stderr.strip() or result.stdout.strip()}")
        return json.loads(result.stdout) if result.stdout.strip() else None


# Requests


def request_inputs(x, binary=False):
    tensor = triton.InferInput(INPUT, list(x.shape), "FP64")
    tensor.set_data_from_numpy(x, binary_data=binary)
    return [tensor]


def request_outputs():
    return [triton.InferRequestedOutput(OUTPUT, binary_data=False)]


def infer(client, model, x, headers=None):
    result = client.infer(model, request_inputs(x), outputs=request_outputs(), headers=headers)
    return result.as_numpy(OUTPUT)


def raw_infer(url, model, x, headers):
    """The client's own request body sent over http.client, to read the gateway's response headers
    (InferResult does not expose them); the body is parsed by the client too."""
    body, json_size = triton.InferenceServerClient.generate_request_body(request_inputs(x), outputs=request_outputs())
    sent = dict(headers)
    if json_size is not None:
        sent["Inference-Header-Content-Length"] = str(json_size)
    status, received, content = exchange("POST", f"http://{url}/v2/models/{model}/infer", body, sent)
    expect_equal(status, 200, f"status ({content[:300]!r})")
    length = received.get("Inference-Header-Content-Length")
    result = triton.InferenceServerClient.parse_response_body(content, header_length=int(length) if length else None)
    return received, result.as_numpy(OUTPUT)


def main():
    if not os.access(SLIPWAY_BIN, os.X_OK):
        print(f"{SLIPWAY_BIN} is missing: run `swift build` or set SLIPWAY_BIN")
        return 2
    started = time.monotonic()
    repository = os.path.join(scratch, "models")
    os.makedirs(repository)
    trained = train_models(repository)
    x_test, _ = load("test.csv")
    batches = [x_test[i:i + BATCH] for i in range(0, len(x_test) - BATCH + 1, BATCH)]

    mlserver = start_mlserver(repository)
    api, gateway, token = start_slipway()
    slipway = Slipway(api, token)
    print(f"MLServer on {mlserver}, slipway API on {api}, gateway on {gateway} "
          f"(started in {time.monotonic() - started:.1f} s)", flush=True)
    direct_client = triton.InferenceServerClient(url=mlserver, network_timeout=30)
    client = triton.InferenceServerClient(url=gateway, network_timeout=30)

    # The backends themselves

    direct = {}

    def direct_answers():
        for variant, model in MODELS.items():
            for index, batch in enumerate(batches):
                answer = infer(direct_client, model, batch)
                expect(np.allclose(answer, trained[variant].predict_proba(batch), rtol=1e-12, atol=1e-12),
                       f"{model} on batch {index}: MLServer {answer.tolist()} differs from scikit-learn")
                direct[variant, index] = answer

    check(f"MLServer serves both models ({len(batches)} batches each) and agrees with scikit-learn", direct_answers)

    def models_differ():
        same = [index for index in range(len(batches)) if np.array_equal(direct["a", index], direct["b", index])]
        expect_equal(same, [], "batches on which the two models answer the same")

    check("the two models answer every batch differently (an answer names its model)", models_differ)

    def variant_of(index, answer):
        matches = [variant for variant in MODELS if np.array_equal(answer, direct[variant, index])]
        expect(len(matches) == 1, f"batch {index}: the answer {answer.tolist()} equals no direct answer")
        return matches[0]

    # Registry and endpoint, through the CLI

    def set_up():
        for variant, model in MODELS.items():
            slipway("models", "create", model, "--description", f"breast-cancer classifier behind variant {variant}")
            accuracy = trained[variant].score(*load("test.csv"))
            version = slipway("versions", "create", model, "--artifact", os.path.join(repository, model),
                              "--metric", f"accuracy={accuracy:.4f}", "--no-probe")
            expect_equal(str(version.get("version")), "1", f"{model}'s version")
        slipway("endpoints", "create", ENDPOINT, "--variant", "a", "--description", "two MLServer models")
        for variant, model in MODELS.items():
            slipway("deploy", ENDPOINT, "--variant", variant, "--model", f"{model}@1",
                    "--backend", f"http://{mlserver}/v2/models/{model}")
        policy = slipway("traffic", "set", ENDPOINT, "a=50", "b=50")
        expect_equal(policy.get("weights"), {"a": 50, "b": 50}, "weights")
        return True

    if not check("register both models, create the endpoint, deploy a and b, traffic set a=50 b=50", set_up):
        print(summary(), flush=True)
        return 1

    # The client's control calls

    check("is_server_live through the gateway", lambda: expect(client.is_server_live(), "not live"))
    check("is_server_ready through the gateway", lambda: expect(client.is_server_ready(), "not ready"))

    def model_ready():
        expect(client.is_model_ready(ENDPOINT), "the endpoint is not ready")
        for variant in MODELS:
            expect(client.is_model_ready(ENDPOINT, headers={"X-Slipway-Variant": variant}), f"variant {variant} is not ready")
        expect(not client.is_model_ready("no-such-endpoint"), "an unknown endpoint reads as ready")

    check("is_model_ready(endpoint), pinned to a and to b, and false for an unknown endpoint", model_ready)

    def metadata():
        for variant, model in MODELS.items():
            answer = client.get_model_metadata(ENDPOINT, headers={"X-Slipway-Variant": variant})
            expect_equal(answer, direct_client.get_model_metadata(model), f"metadata through the gateway pinned to {variant}")
            expect_equal([(t["name"], t["datatype"]) for t in answer["inputs"]], [(INPUT, "FP64")], "inputs")
        unpinned = client.get_model_metadata(ENDPOINT)
        expect(unpinned.get("name") in MODELS.values(), f"unpinned metadata names a backend model: {unpinned}")

    check("get_model_metadata(endpoint) equals the backend model's metadata (pinned a, pinned b, unpinned)", metadata)

    # The split

    users = [f"user-{number:04d}" for number in range(USERS)]
    seen = {}  # user -> the variants that answered, by content

    def live():
        counts = slipway("endpoints", "show", ENDPOINT).get("live") or {}
        return {variant: (counts.get(variant) or {}).get("requests", 0) for variant in MODELS}, \
            {variant: (counts.get(variant) or {}).get("errors", 0) for variant in MODELS}

    before = check("endpoints show reports live per-variant metrics", live)

    def split_infer():
        wrong = []
        for number, user in enumerate(users):
            index = number % len(batches)
            for _ in range(REPEATS):
                answer = infer(client, ENDPOINT, batches[index], headers={"X-User-Id": user})
                matches = [variant for variant in MODELS if np.array_equal(answer, direct[variant, index])]
                if len(matches) != 1:
                    wrong.append((user, answer.tolist()))
                    continue
                seen.setdefault(user, []).append(matches[0])
        expect_equal(wrong[:3], [], f"answers equal to neither model's direct answer ({len(wrong)} in all)")

    check(f"client.infer: {USERS} users x {REPEATS}, every answer is one variant's direct MLServer answer", split_infer)

    def headers_name_the_variant():
        mismatched, versions, ids = [], {}, set()
        for number, user in enumerate(users):
            index = number % len(batches)
            received, answer = raw_infer(gateway, ENDPOINT, batches[index], {"X-User-Id": user})
            variant = received.get("X-Slipway-Variant")
            expect(variant in MODELS, f"{user}: X-Slipway-Variant is {variant!r}")
            if not np.array_equal(answer, direct[variant, index]) or seen.get(user, [variant])[0] != variant:
                mismatched.append(user)
            versions.setdefault(variant, set()).add(received.get("X-Slipway-Model-Version"))
            ids.add(received.get("X-Request-Id"))
        expect_equal(mismatched[:3], [], f"users whose answer differs from the header's variant ({len(mismatched)} in all)")
        expect_equal(versions, {variant: {f"{model}@1"} for variant, model in MODELS.items() if variant in versions},
                     "X-Slipway-Model-Version per variant")
        expect(None not in ids and len(ids) == USERS, f"{len(ids)} distinct X-Request-Id for {USERS} requests")

    check("response headers (the client's body over http.client): X-Slipway-Variant is the variant whose model answered, "
          "X-Slipway-Model-Version MODEL@1, a fresh X-Request-Id", headers_name_the_variant)

    def sticky():
        moved = [user for user, variants in seen.items() if len(set(variants)) != 1]
        expect_equal(moved[:3], [], f"users served by both variants ({len(moved)} in all)")
        expect_equal(len(seen), USERS, "users answered")

    check(f"each user stays on one variant over {REPEATS} requests", sticky)

    def live_counts():
        (requests, errors), (requests_before, errors_before) = live(), before
        served = {variant: (REPEATS + 1) * sum(1 for v in seen.values() if v[0] == variant) for variant in MODELS}
        expect_equal({v: requests[v] - requests_before[v] for v in MODELS}, served, "requests counted per variant")
        expect_equal({v: errors[v] - errors_before[v] for v in MODELS}, {v: 0 for v in MODELS}, "errors counted per variant")

    if before:
        check("the gateway's live metrics count exactly the requests each variant served, no errors", live_counts)

    def split():
        share = 100 * sum(1 for variants in seen.values() if variants[0] == "a") / max(len(seen), 1)
        print(f"     a: {share:.1f}%, b: {100 - share:.1f}% of {len(seen)} users", flush=True)
        expect(40 <= share <= 60, f"a's share {share:.1f}% is outside 50 ± 10")

    check(f"the split over {USERS} users is 50/50 within ten points", split)

    def pin_b():
        on_a = [number for number, user in enumerate(users) if seen.get(user, ["b"])[0] == "a"][:20]
        expect(on_a, "no user of a to pin")
        for number in on_a:
            index = number % len(batches)
            headers = {"X-User-Id": users[number], "X-Slipway-Variant": "b"}
            expect_equal(variant_of(index, infer(client, ENDPOINT, batches[index], headers=headers)), "b", f"{users[number]} pinned")
            received, _ = raw_infer(gateway, ENDPOINT, batches[index], headers)
            expect_equal(received.get("X-Slipway-Variant"), "b", "X-Slipway-Variant")

    check("X-Slipway-Variant: b sends users of a to b", pin_b)

    # The binary tensor extension

    def binary_passthrough():
        x = batches[0]
        inputs = request_inputs(x, binary=True)
        body, json_size = triton.InferenceServerClient.generate_request_body(inputs, outputs=request_outputs())
        expect(json_size is not None, "the client sent no binary tensor")
        headers = {"Inference-Header-Content-Length": str(json_size), "X-Slipway-Variant": "a"}
        direct_status, _, direct_body = exchange("POST", f"http://{mlserver}/v2/models/{MODELS['a']}/infer", body, headers)
        status, received, content = exchange("POST", f"http://{gateway}/v2/models/{ENDPOINT}/infer", body, headers)
        expect_equal(received.get("X-Slipway-Variant"), "a", f"X-Slipway-Variant (the gateway answered itself: {status} {content[:200]!r})")
        expect_equal((status, content), (direct_status, direct_body), "the gateway's answer against MLServer's own")
        # The client itself, directly and through the gateway: the same outcome.
        outcomes = []
        for target, model, headers in ((direct_client, MODELS["a"], None), (client, ENDPOINT, {"X-Slipway-Variant": "a"})):
            try:
                answer = target.infer(model, inputs, outputs=request_outputs(), headers=headers).as_numpy(OUTPUT)
                outcomes.append(("answer", answer.tolist()))
            except InferenceServerException as error:
                outcomes.append(("error", str(error.status()), error.message()))
        expect_equal(outcomes[1], outcomes[0], "the client's outcome through the gateway against directly")
        if direct_status == 200:
            expect_equal(outcomes[0], ("answer", direct["a", 0].tolist()), "the binary request's answer against the JSON one")
        print(f"     MLServer answers a binary tensor with {direct_status}; the client gets {outcomes[1][:2]} either way", flush=True)

    check("a binary tensor request pinned to a reaches MLServer unchanged (MLServer's own status and body arrive)", binary_passthrough)

    # Concurrency and compression

    def concurrent():
        pooled = triton.InferenceServerClient(url=gateway, concurrency=8, network_timeout=30)
        try:
            pending = []
            for number, user in enumerate(users):
                index = number % len(batches)
                pending.append((user, index, pooled.async_infer(
                    ENDPOINT, request_inputs(batches[index]), outputs=request_outputs(), headers={"X-User-Id": user})))
            moved = [user for user, index, request in pending
                     if variant_of(index, request.get_result(timeout=30).as_numpy(OUTPUT)) != seen[user][0]]
        finally:
            pooled.close()
        expect_equal(moved[:3], [], f"users answered by another variant than before ({len(moved)} in all)")

    check(f"async_infer with 8 connections: {USERS} users, each answered by its variant's model", concurrent)

    big = np.tile(x_test[:BATCH * 4], (8, 1))  # answers over MLServer's 1,000-byte floor for compression

    def response_gzip():
        expected = infer(direct_client, MODELS["a"], big)
        answer = client.infer(ENDPOINT, request_inputs(big), outputs=request_outputs(), headers={"X-Slipway-Variant": "a"},
                              response_compression_algorithm="gzip").as_numpy(OUTPUT)
        expect(np.array_equal(answer, expected), "the answer differs from MLServer's")
        body, _ = triton.InferenceServerClient.generate_request_body(request_inputs(big), outputs=request_outputs())
        status, received, _ = exchange("POST", f"http://{gateway}/v2/models/{ENDPOINT}/infer", body,
                                       {"X-Slipway-Variant": "a", "Accept-Encoding": "gzip"})
        expect_equal((status, received.get("Content-Encoding")), (200, "gzip"), "status and Content-Encoding through the gateway")

    check("response_compression_algorithm='gzip': MLServer's compressed answer arrives and decodes", response_gzip)

    def request_gzip():
        expected = infer(direct_client, MODELS["a"], big)
        answer = client.infer(ENDPOINT, request_inputs(big), outputs=request_outputs(), headers={"X-Slipway-Variant": "a"},
                              request_compression_algorithm="gzip").as_numpy(OUTPUT)
        expect(np.array_equal(answer, expected), "the answer differs from MLServer's")

    check("request_compression_algorithm='gzip': a compressed request body reaches MLServer, which accepts it directly",
          request_gzip)

    def server_metadata():
        answer = client.get_server_metadata()
        expect({"name", "version", "extensions"} <= set(answer), f"the V2 server metadata fields, got {answer}")

    check("get_server_metadata through the gateway has the V2 fields name, version and extensions", server_metadata)

    # All traffic to a

    def all_to_a():
        slipway("traffic", "set", ENDPOINT, "a=100", "b=0")
        served = {}
        for number, user in enumerate(users):
            index = number % len(batches)
            variant = variant_of(index, infer(client, ENDPOINT, batches[index], headers={"X-User-Id": user}))
            served[variant] = served.get(variant, 0) + 1
        expect_equal(served, {"a": USERS}, "variants that served")

    check(f"traffic set a=100 b=0 sends all {USERS} users to a", all_to_a)

    def pin_at_zero():
        index = 0
        answer = infer(client, ENDPOINT, batches[index], headers={"X-User-Id": users[0], "X-Slipway-Variant": "b"})
        expect_equal(variant_of(index, answer), "b", "pinned variant at weight 0")

    check("the pin still reaches b at weight 0", pin_at_zero)

    client.close()
    direct_client.close()
    print(f"({time.monotonic() - started:.1f} s)", flush=True)
    print(summary(), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        status = main()
    except Exception as error:  # noqa: BLE001 - a set-up failure is one more failure, reported the same way
        failed += 1
        print(f"FAIL set-up: {type(error).__name__}: {error}", flush=True)
        if os.environ.get("COMPAT_VERBOSE"):
            traceback.print_exc()
        print(summary(), flush=True)
        status = 1
    sys.exit(status)
