"""Drives a running `slipway server` with the official `mlflow` client, unchanged.

Needs SLIPWAY_URL (the server's API URL) and SLIPWAY_ADMIN_TOKEN (the admin token printed on
the server's first start). Every check prints one line; the last line reads `N passed, M failed`
and the exit status is non-zero when anything failed.

Each run works on models named with a fresh random prefix, so the script can run again and
again against the same server.
"""

import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
import uuid
import warnings

# Fail fast instead of retrying for minutes: an answer the client cannot use is a failure here.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import requests  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

URL = os.environ.get("SLIPWAY_URL", "").rstrip("/")
ADMIN_TOKEN = os.environ.get("SLIPWAY_ADMIN_TOKEN", "")
DEADLINE = time.monotonic() + 300  # the whole script must finish within five minutes

passed = 0
failed = 0


def check(title, body):
    """Runs one check; an exception or a failed assertion counts as a failure."""
    global passed, failed
    if time.monotonic() > DEADLINE:
        failed += 1
        print(f"FAIL {title}: the script ran over its time limit", flush=True)
        return None
    try:
        result = body()
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the run
        failed += 1
        print(f"FAIL {title}: {type(error).__name__}: {error}", flush=True)
        if os.environ.get("COMPAT_VERBOSE"):
            traceback.print_exc()
        return None
    passed += 1
    print(f"ok   {title}", flush=True)
    return result


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_equal(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def expect_error(code, call):
    """Runs `call` and requires an MlflowException with MLflow error code `code`."""
    try:
        call()
    except MlflowException as error:
        expect_equal(error.error_code, code, "error_code")
        return error
    raise AssertionError(f"expected an MlflowException with error_code {code}, the call succeeded")


def native(method, path, token, body=None):
    """A call to Slipway's native API (tokens, approvals), which MLflow has no verbs for."""
    response = requests.request(
        method, f"{URL}/api/v1{path}", json=body, timeout=30,
        headers={"Authorization": f"Bearer {token}"} if token else {})
    return response


def main():
    if not URL or not ADMIN_TOKEN:
        print("SLIPWAY_URL and SLIPWAY_ADMIN_TOKEN must be set (tools/compat-tests.sh sets both)")
        return 2
    os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN
    # Stages are deprecated in MLflow 3 but still part of its API; the notices are not failures.
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    client = MlflowClient(tracking_uri=URL, registry_uri=URL)

    prefix = f"compat-{uuid.uuid4().hex[:8]}"
    name = f"{prefix}-sentiment"
    other = f"{prefix}-vision"
    renamed = f"{prefix}-sentiment-v2"
    local_dir = tempfile.mkdtemp(prefix="slipway-compat-")

    # Registered models

    def create_model():
        model = client.create_registered_model(
            name, tags={"team": "nlp", "owner": "alice"}, description="classifies reviews")
        expect_equal(model.name, name, "name")
        expect_equal(model.description, "classifies reviews", "description")
        expect_equal(model.tags, {"team": "nlp", "owner": "alice"}, "tags")
        expect(model.creation_timestamp and model.creation_timestamp > 0, "creation_timestamp is set")

    check("create_registered_model with tags and description", create_model)

    def get_model():
        model = client.get_registered_model(name)
        expect_equal(model.name, name, "name")
        expect_equal(model.tags, {"team": "nlp", "owner": "alice"}, "tags")
        expect_equal(model.description, "classifies reviews", "description")
        expect_equal(model.latest_versions, [], "latest_versions")

    check("get_registered_model", get_model)

    def update_model():
        model = client.update_registered_model(name, description="classifies product reviews")
        expect_equal(model.description, "classifies product reviews", "description")
        expect_equal(client.get_registered_model(name).description, "classifies product reviews", "stored description")

    check("update_registered_model", update_model)

    check("create a second registered model",
          lambda: expect_equal(client.create_registered_model(other, tags={"team": "vision"}).name, other, "name"))

    # Model versions

    def create_versions():
        first = client.create_model_version(
            name, "s3://bucket/model", tags={"team": "nlp", "stage": "candidate"}, description="baseline")
        expect_equal(first.version, "1", "first version")
        expect_equal(first.source, "s3://bucket/model", "source")
        expect_equal(first.status, "READY", "status")
        expect_equal(first.current_stage, "None", "stage")
        expect_equal(first.tags, {"team": "nlp", "stage": "candidate"}, "tags")
        second = client.create_model_version(name, local_dir, tags={"team": "nlp"})
        expect_equal(second.version, "2", "second version")
        expect_equal(second.source, local_dir, "local source")
        third = client.create_model_version(name, "s3://bucket/model-3", tags={"team": "search"})
        expect_equal(third.version, "3", "third version")
        vision = client.create_model_version(other, "s3://bucket/vision", tags={"team": "vision"})
        expect_equal(vision.version, "1", "versions are numbered per model")

    check("create_model_version x4 (s3 and local sources, no run_id)", create_versions)

    def get_version():
        version = client.get_model_version(name, "1")
        expect_equal(version.name, name, "name")
        expect_equal(version.version, "1", "version")
        expect_equal(version.description, "baseline", "description")
        expect_equal(version.source, "s3://bucket/model", "source")
        expect_equal(version.run_id, "", "run_id")
        version = client.get_model_version(name, 2)
        expect_equal(version.version, "2", "version given as an int")

    check("get_model_version", get_version)

    def update_version():
        version = client.update_model_version(name, "1", description="baseline, retrained")
        expect_equal(version.description, "baseline, retrained", "description")
        expect_equal(client.get_model_version(name, "1").description, "baseline, retrained", "stored description")

    check("update_model_version", update_version)

    def latest_in_model():
        model = client.get_registered_model(name)
        expect_equal([v.version for v in model.latest_versions], ["3"], "latest_versions (stage None)")

    check("get_registered_model lists latest_versions", latest_in_model)

    check("get_model_version_download_uri",
          lambda: expect_equal(client.get_model_version_download_uri(name, "1"), "s3://bucket/model", "uri"))

    # Aliases

    def set_alias():
        client.set_registered_model_alias(name, "champion", "2")
        client.set_registered_model_alias(name, "challenger", 3)
        version = client.get_model_version_by_alias(name, "champion")
        expect_equal(version.version, "2", "champion")
        expect_equal(version.aliases, ["champion"], "aliases on the version")
        expect_equal(client.get_model_version_by_alias(name, "challenger").version, "3", "challenger")
        expect_equal(client.get_registered_model(name).aliases, {"champion": "2", "challenger": "3"}, "aliases on the model")

    check("set_registered_model_alias and get_model_version_by_alias", set_alias)

    def move_alias():
        client.set_registered_model_alias(name, "champion", "3")
        expect_equal(client.get_model_version_by_alias(name, "champion").version, "3", "champion moved")
        expect_equal(client.get_model_version(name, "2").aliases, [], "old version lost the alias")

    check("set_registered_model_alias moves an alias", move_alias)

    def delete_alias():
        client.delete_registered_model_alias(name, "challenger")
        expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version_by_alias(name, "challenger"))
        expect_equal(client.get_registered_model(name).aliases, {"champion": "3"}, "aliases left")

    check("delete_registered_model_alias", delete_alias)

    # Tags

    def model_tags():
        client.set_registered_model_tag(name, "task", "sentiment")
        client.set_registered_model_tag(name, "owner", "bob")
        expect_equal(client.get_registered_model(name).tags, {"team": "nlp", "owner": "bob", "task": "sentiment"}, "tags")
        client.delete_registered_model_tag(name, "owner")
        expect_equal(client.get_registered_model(name).tags, {"team": "nlp", "task": "sentiment"}, "tags after delete")

    check("set_registered_model_tag and delete_registered_model_tag", model_tags)

    def version_tags():
        client.set_model_version_tag(name, "2", "validated", "true")
        expect_equal(client.get_model_version(name, "2").tags, {"team": "nlp", "validated": "true"}, "tags")
        client.delete_model_version_tag(name, "2", "validated")
        expect_equal(client.get_model_version(name, "2").tags, {"team": "nlp"}, "tags after delete")

    check("set_model_version_tag and delete_model_version_tag", version_tags)

    # Search

    def search_models_by_name():
        found = client.search_registered_models(filter_string=f"name = '{name}'")
        expect_equal([m.name for m in found], [name], "exact name")
        found = client.search_registered_models(filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"])
        expect_equal([m.name for m in found], [name, other], "LIKE, name ASC")
        found = client.search_registered_models(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
        expect_equal([m.name for m in found], [other, name], "LIKE, name DESC")
        found = client.search_registered_models(filter_string=f"name ILIKE '{prefix.upper()}-SENT%'")
        expect_equal([m.name for m in found], [name], "ILIKE")

    check("search_registered_models by name (=, LIKE, ILIKE, order_by)", search_models_by_name)

    def search_models_by_tag():
        found = client.search_registered_models(filter_string=f"name LIKE '{prefix}-%' AND tags.team = 'nlp'")
        expect_equal([m.name for m in found], [name], "tags.team = 'nlp'")
        expect_equal(found[0].tags.get("task"), "sentiment", "tags in the result")

    check("search_registered_models by tag", search_models_by_tag)

    def page_models():
        first = client.search_registered_models(filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"], max_results=1)
        expect_equal([m.name for m in first], [name], "first page")
        expect(first.token, "a next page token")
        second = client.search_registered_models(
            filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"], max_results=1, page_token=first.token)
        expect_equal([m.name for m in second], [other], "second page")
        if second.token:
            third = client.search_registered_models(
                filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"], max_results=1, page_token=second.token)
            expect_equal(list(third), [], "no third page")

    check("search_registered_models pages with max_results and page_token", page_models)

    def search_versions():
        found = client.search_model_versions(f"name = '{name}'")
        expect_equal(sorted(v.version for v in found), ["1", "2", "3"], "all versions of the model")
        found = client.search_model_versions(f"name = '{name}' AND tags.team = 'nlp'")
        expect_equal(sorted(v.version for v in found), ["1", "2"], "tags.team = 'nlp'")
        found = client.search_model_versions(f"name LIKE '{prefix}-%' AND tags.team = 'vision'")
        expect_equal([(v.name, v.version) for v in found], [(other, "1")], "LIKE and tag")
        found = client.search_model_versions(f"name = '{name}' AND version_number >= 2", order_by=["version_number ASC"])
        expect_equal([v.version for v in found], ["2", "3"], "version_number >= 2")
        found = client.search_model_versions(f"name = '{name}'", order_by=["version_number DESC"])
        expect_equal([v.version for v in found], ["3", "2", "1"], "version_number DESC")
        found = client.search_model_versions(f"name = '{name}' AND source_path = 's3://bucket/model'")
        expect_equal([v.version for v in found], ["1"], "source_path")

    check("search_model_versions with filters and order_by", search_versions)

    def page_versions():
        pages, token, seen = 0, None, []
        while pages < 10:
            page = client.search_model_versions(
                f"name = '{name}'", max_results=2, order_by=["version_number ASC"], page_token=token)
            seen += [v.version for v in page]
            pages += 1
            token = page.token
            if not token:
                break
        expect_equal(seen, ["1", "2", "3"], "versions over all pages")
        expect(pages >= 2, "more than one page")

    check("search_model_versions pages with max_results and page_token", page_versions)

    # Stages

    def to_staging():
        version = client.transition_model_version_stage(name, "1", "Staging")
        expect_equal(version.current_stage, "Staging", "stage")
        expect_equal(client.get_model_version(name, "1").current_stage, "Staging", "stored stage")

    check("transition_model_version_stage to Staging", to_staging)

    def production_needs_approval():
        error = expect_error("INVALID_STATE", lambda: client.transition_model_version_stage(name, "1", "Production"))
        expect("approv" in error.message.lower(), f"the message names the approval rule: {error.message}")
        expect_equal(client.get_model_version(name, "1").current_stage, "Staging", "stage unchanged")

    check("transition to Production without an approval is refused (INVALID_STATE)", production_needs_approval)

    def approved_production():
        created = native("POST", "/tokens", ADMIN_TOKEN, {"name": f"{prefix}-bob", "role": "approver"})
        expect_equal(created.status_code, 201, f"token creation status ({created.text})")
        bob = created.json()["token"]
        approval = native("POST", f"/models/{name}/versions/1/approvals", bob, {"stage": "Production"})
        expect_equal(approval.status_code, 200, f"approval status ({approval.text})")
        version = client.transition_model_version_stage(name, "1", "Production")
        expect_equal(version.current_stage, "Production", "stage")

    check("transition to Production after another principal approves", approved_production)

    def latest_versions():
        production = client.get_latest_versions(name, stages=["Production"])
        expect_equal([v.version for v in production], ["1"], "Production")
        expect_equal(client.get_latest_versions(name, stages=["Staging"]), [], "Staging is empty now")
        every = client.get_latest_versions(name)
        expect_equal(sorted((v.current_stage, v.version) for v in every), [("None", "3"), ("Production", "1")], "all stages")
        expect_equal(
            sorted(v.version for v in client.get_registered_model(name).latest_versions), ["1", "3"], "latest_versions")

    check("get_latest_versions", latest_versions)

    # Rename and delete

    def rename():
        client.rename_registered_model(name, renamed)
        expect_equal(client.get_registered_model(renamed).name, renamed, "new name")
        expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(name))
        expect_equal(client.get_model_version(renamed, "1").name, renamed, "versions follow the model")
        expect_equal(client.get_model_version_by_alias(renamed, "champion").version, "3", "aliases follow the model")

    check("rename_registered_model", rename)

    def delete_version():
        client.delete_model_version(renamed, "2")
        expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(renamed, "2"))
        expect_equal(sorted(v.version for v in client.search_model_versions(f"name = '{renamed}'")), ["1", "3"], "left")

    check("delete_model_version", delete_version)

    def delete_models():
        client.delete_registered_model_alias(renamed, "champion")
        client.delete_registered_model(renamed)
        expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(renamed))
        expect_equal(list(client.search_model_versions(f"name = '{renamed}'")), [], "versions are gone")
        client.delete_registered_model(other)
        expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(other))

    check("delete_registered_model", delete_models)

    # Errors

    check("unknown model -> RESOURCE_DOES_NOT_EXIST",
          lambda: expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(f"{prefix}-missing")))
    check("unknown version -> RESOURCE_DOES_NOT_EXIST",
          lambda: expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(other, "7")))

    def duplicate():
        duplicate_name = f"{prefix}-duplicate"
        client.create_registered_model(duplicate_name)
        expect_error("RESOURCE_ALREADY_EXISTS", lambda: client.create_registered_model(duplicate_name))
        client.delete_registered_model(duplicate_name)

    check("duplicate model -> RESOURCE_ALREADY_EXISTS", duplicate)
    check("invalid model name -> INVALID_PARAMETER_VALUE",
          lambda: expect_error("INVALID_PARAMETER_VALUE", lambda: client.create_registered_model(f"{prefix} bad*name")))
    check("version of an unknown model -> RESOURCE_DOES_NOT_EXIST",
          lambda: expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.create_model_version(f"{prefix}-missing", "s3://b/m")))
    check("malformed filter -> INVALID_PARAMETER_VALUE",
          lambda: expect_error("INVALID_PARAMETER_VALUE", lambda: client.search_model_versions("name = ")))

    def no_token_raw():
        response = requests.get(f"{URL}/api/2.0/mlflow/registered-models/get", params={"name": "x"}, timeout=30)
        expect_equal(response.status_code, 401, "status")
        expect_equal(response.json().get("error_code"), "UNAUTHENTICATED", "error_code")

    check("no token -> 401 (raw HTTP)", no_token_raw)

    def no_token_client():
        del os.environ["MLFLOW_TRACKING_TOKEN"]
        try:
            expect_error("UNAUTHENTICATED", lambda: client.search_registered_models())
        finally:
            os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN

    check("no token -> UNAUTHENTICATED through the client", no_token_client)

    def wrong_token_client():
        os.environ["MLFLOW_TRACKING_TOKEN"] = "slw_0000"
        try:
            expect_error("UNAUTHENTICATED", lambda: client.get_registered_model(other))
        finally:
            os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN_TOKEN

    check("unknown token -> UNAUTHENTICATED through the client", wrong_token_client)

    shutil.rmtree(local_dir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
