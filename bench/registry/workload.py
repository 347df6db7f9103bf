"""The registry workload, driven through the official `mlflow` client against any server that
speaks MLflow's Model Registry REST API (`mlflow server` or `slipway server`).

One run registers a fresh model, then times three phases, one request at a time:

  create   N model versions (`create_model_version`, external source, two tag values)
  alias    M `get_model_version_by_alias` calls for an alias on the middle version
  search   S `search_model_versions` calls filtered by name and `tags.team = 'nlp'`

and prints one JSON object: {"side", "round", "ops": {phase: {"count", "seconds", "ops_per_s"}}}.

`summarize` reads those objects (one per line) and prints medians per side and the ratios.
"""

import argparse
import json
import logging
import os
import statistics
import sys
import time
import uuid

# No telemetry and no retries: the workload measures the server, nothing else.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")

PHASES = ("create", "alias", "search")


def run(args):
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)

    if args.token:
        os.environ["MLFLOW_TRACKING_TOKEN"] = args.token
    client = MlflowClient(tracking_uri=args.url, registry_uri=args.url)
    deadline = time.monotonic() + args.time_limit
    name = f"bench-{uuid.uuid4().hex[:10]}"
    client.create_registered_model(name, tags={"purpose": "benchmark"})

    def timed(count, call):
        start = time.perf_counter()
        for index in range(count):
            call(index)
            if index % 50 == 0 and time.monotonic() > deadline:
                raise SystemExit(f"{args.side}: over the time limit of {args.time_limit} s")
        seconds = time.perf_counter() - start
        return {"count": count, "seconds": round(seconds, 4), "ops_per_s": round(count / seconds, 2)}

    ops = {}
    ops["create"] = timed(
        args.versions,
        lambda i: client.create_model_version(
            name, f"s3://bench-bucket/{name}/{i + 1}", tags={"team": "nlp" if i % 2 == 0 else "vision", "index": str(i)}),
    )
    middle = str(args.versions // 2)
    client.set_registered_model_alias(name, "champion", middle)

    def by_alias(_):
        version = client.get_model_version_by_alias(name, "champion")
        if version.version != middle:
            raise SystemExit(f"{args.side}: alias answered version {version.version}, expected {middle}")

    ops["alias"] = timed(args.aliases, by_alias)
    expected = (args.versions + 1) // 2

    def search(_):
        found = client.search_model_versions(f"name = '{name}' AND tags.team = 'nlp'")
        if len(found) != expected:
            raise SystemExit(f"{args.side}: the search found {len(found)} versions, expected {expected}")

    ops["search"] = timed(args.searches, search)
    print(json.dumps({"side": args.side, "round": args.round, "model": name, "ops": ops}), flush=True)


def client_cost(args):
    """The client's own share of a call: decoding a real answer of each kind the way the mlflow
    client does (JSON text -> protobuf -> entities), timed without any network or server work."""
    import requests
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.protos.model_registry_pb2 import CreateModelVersion, GetModelVersionByAlias, SearchModelVersions
    from mlflow.utils.proto_json_utils import parse_dict

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    base = f"{args.url.rstrip('/')}/api/2.0/mlflow"
    answers = {
        "create": (requests.get(f"{base}/model-versions/get", params={"name": args.model, "version": "1"}, headers=headers,
                                timeout=60).text, CreateModelVersion.Response, "model_version"),
        "alias": (requests.get(f"{base}/registered-models/alias", params={"name": args.model, "alias": "champion"},
                               headers=headers, timeout=60).text, GetModelVersionByAlias.Response, "model_version"),
        "search": (requests.get(f"{base}/model-versions/search",
                                params={"filter": f"name = '{args.model}' AND tags.team = 'nlp'", "max_results": "10000"},
                                headers=headers, timeout=60).text, SearchModelVersions.Response, "model_versions"),
    }
    costs = {}
    for phase, (text, response_type, field) in answers.items():
        start = time.perf_counter()
        for _ in range(args.repeat):
            message = response_type()
            parse_dict(json.loads(text), message)
            value = getattr(message, field)
            if field == "model_versions":
                [ModelVersion.from_proto(item) for item in value]
            else:
                ModelVersion.from_proto(value)
        costs[phase] = {"decode_ms": round((time.perf_counter() - start) / args.repeat * 1000, 3), "answer_bytes": len(text)}
    print(json.dumps({"side": args.side, "client_decode": costs}))


def summarize(args):
    results = [json.loads(line) for line in open(args.results) if line.strip()]
    sides = sorted({r["side"] for r in results})
    medians = {}
    for side in sides:
        rows = [r for r in results if r["side"] == side]
        medians[side] = {
            phase: statistics.median(r["ops"][phase]["ops_per_s"] for r in rows) for phase in PHASES
        }
    rounds = len({r["round"] for r in results})
    summary = {"rounds": rounds, "median_ops_per_s": medians}
    if "mlflow" in medians and "slipway" in medians:
        summary["ratio"] = {phase: round(medians["slipway"][phase] / medians["mlflow"][phase], 1) for phase in PHASES}
    summary["per_round"] = results
    print(json.dumps(summary, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="run the workload once against one server")
    one.add_argument("--url", required=True)
    one.add_argument("--token", default="")
    one.add_argument("--side", required=True, help="a label for the server (mlflow, slipway)")
    one.add_argument("--round", type=int, default=1)
    one.add_argument("--versions", type=int, default=300)
    one.add_argument("--aliases", type=int, default=1000)
    one.add_argument("--searches", type=int, default=200)
    one.add_argument("--time-limit", type=float, default=900, help="seconds before the run gives up")
    cost = sub.add_parser("client-cost", help="time the client-side decoding of real answers from one server")
    cost.add_argument("--url", required=True)
    cost.add_argument("--token", default="")
    cost.add_argument("--side", required=True)
    cost.add_argument("--model", required=True, help="a model the workload registered (see the run's JSON)")
    cost.add_argument("--repeat", type=int, default=200)
    report = sub.add_parser("summarize", help="medians and ratios from the JSON lines of several runs")
    report.add_argument("results")
    args = parser.parse_args()
    {"run": run, "client-cost": client_cost, "summarize": summarize}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
