"""Rendering tests of the dify role's templates.

The role's defaults and vars are loaded as Ansible loads them (trusted templates), every template is
rendered with Ansible's own Templar (so the same filters and lazy variables apply), and the resulting
manifests are inspected. A template change that drops a variable makes test_every_default_is_used or
test_every_rendered_default_changes_the_manifests fail.
"""

import copy
import os
import re

import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "dify")
ROLE = os.path.abspath(ROLE)
TEMPLATES = os.path.join(ROLE, "templates")
MANIFEST_TEMPLATES = sorted(
    name for name in os.listdir(TEMPLATES) if name.endswith(".yml.j2"))

# Variables that only steer tasks (the connection, waits, secret generation, removal), never a manifest.
TASK_ONLY = {"dify_kubeconfig", "dify_context", "dify_wait_timeout", "dify_secret_length", "dify_state",
             "dify_remove_data"}


def _load(path):
    return DataLoader().load_from_file(path, trusted_as_template=True) or {}


DEFAULTS = _load(os.path.join(ROLE, "defaults", "main.yml"))
VARS = _load(os.path.join(ROLE, "vars", "main.yml"))


LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RENDERED = {}


def render(overrides=None, templates=None):
    """Render the manifest templates with the defaults, the given overrides and the role vars.

    Results are cached by their inputs; callers get a deep copy they may change.
    """
    key = repr((sorted((overrides or {}).items()), templates))
    if key not in _RENDERED:
        _RENDERED[key] = _render(overrides, templates)
    return copy.deepcopy(_RENDERED[key])


def _render(overrides, templates):
    variables = copy.deepcopy(dict(DEFAULTS))
    variables.update(overrides or {})
    variables.update(VARS)
    templar = Templar(loader=DataLoader(), variables=variables).copy_with_new_env(searchpath=[TEMPLATES])
    docs = []
    for name in templates or MANIFEST_TEMPLATES:
        with open(os.path.join(TEMPLATES, name), encoding="utf-8") as handle:
            text = templar.template(trust_as_template(handle.read()))
        docs.extend(doc for doc in yaml.load_all(text or "", Loader=LOADER) if doc)
    return docs


def find(docs, kind, name=None):
    found = [doc for doc in docs if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)]
    return found


def one(docs, kind, name):
    found = find(docs, kind, name)
    assert len(found) == 1, "%s/%s rendered %d times" % (kind, name, len(found))
    return found[0]


def pod_specs(docs):
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield doc, doc["spec"]["template"]["spec"]


def containers(docs):
    for doc, spec in pod_specs(docs):
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield doc, container


def env_of(container):
    return {item["name"]: item for item in container.get("env", [])}


def env_value(container, name):
    return env_of(container)[name].get("value")


@pytest.fixture(scope="module")
def default_docs():
    return render()


# ---------------------------------------------------------------------------------------------
# Every variable is used
# ---------------------------------------------------------------------------------------------

def _role_text(*folders):
    text = []
    for folder in folders:
        for root, _dirs, files in os.walk(os.path.join(ROLE, folder)):
            for name in files:
                with open(os.path.join(root, name), encoding="utf-8") as handle:
                    text.append(handle.read())
    return "\n".join(text)


def test_every_default_is_used():
    used = _role_text("templates", "vars", "tasks")
    unused = [name for name in DEFAULTS if not re.search(r"\b%s\b" % re.escape(name), used)]
    assert not unused, "defaults never used: %s" % unused


def test_task_only_variables_are_used_by_tasks():
    tasks = _role_text("tasks")
    assert all(name in tasks for name in TASK_ONLY)


def test_every_default_is_documented():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    with open(os.path.join(ROLE, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    assert sorted(spec) == sorted(DEFAULTS)
    assert not [name for name in DEFAULTS if "`%s`" % name not in readme]
    for name, option in spec.items():
        description = " ".join(option["description"])
        assert description.rstrip().endswith("."), name


# Mutations that must show in the rendered manifests, with the context in which the variable matters.
MUTATIONS = {
    "dify_namespace": ({"dify_namespace": "other"}, {}),
    "dify_namespace_labels": ({"dify_namespace_labels": {"istio-injection": "enabled"}}, {}),
    "dify_version": ({"dify_version": "1.18.0"}, {}),
    "dify_tracks": ({"dify_tracks": [{"name": "v1"}, {"name": "v2"}]}, {}),
    "dify_registry": ({"dify_registry": "registry.example.internal"}, {}),
    "dify_images": ({"dify_images": {**DEFAULTS["dify_images"],
                                     "sandbox": {"repository": "x/sandbox", "tag": "1", "digest": ""}}}, {}),
    "dify_image_overrides": ({"dify_image_overrides": {"sandbox": {"digest": "sha256:abc"}}}, {}),
    "dify_image_pull_policy": ({"dify_image_pull_policy": "Always"}, {}),
    "dify_image_pull_secrets": ({"dify_image_pull_secrets": ["regcred"]}, {}),
    "dify_host": ({"dify_host": "chat.example.org"}, {}),
    "dify_public_scheme": ({"dify_public_scheme": "http"}, {}),
    "dify_gateway_enabled": ({"dify_gateway_enabled": False}, {"dify_gateway_ref": "istio-system/main"}),
    "dify_gateway_ref": ({"dify_gateway_ref": "istio-system/other"},
                         {"dify_gateway_enabled": False, "dify_gateway_ref": "istio-system/main"}),
    "dify_gateway_selector": ({"dify_gateway_selector": {"istio": "internal"}}, {}),
    "dify_gateway_tls_credential": ({"dify_gateway_tls_credential": "dify-tls"}, {}),
    "dify_gateway_stream_timeout": ({"dify_gateway_stream_timeout": "7200s"}, {}),
    "dify_gateway_principals": ({"dify_gateway_principals": ["cluster.local/ns/gw/sa/gw"]}, {}),
    "dify_istio_namespace": ({"dify_istio_namespace": "istio-system-2"}, {}),
    "dify_trust_domain": ({"dify_trust_domain": "example.org"}, {}),
    "dify_native_sidecars": ({"dify_native_sidecars": False}, {}),
    "dify_api_replicas": ({"dify_api_replicas": 3}, {}),
    "dify_worker_replicas": ({"dify_worker_replicas": 3}, {}),
    "dify_web_replicas": ({"dify_web_replicas": 3}, {}),
    "dify_sandbox_replicas": ({"dify_sandbox_replicas": 3}, {}),
    "dify_ssrf_proxy_replicas": ({"dify_ssrf_proxy_replicas": 3}, {}),
    "dify_websocket_enabled": ({"dify_websocket_enabled": True}, {}),
    "dify_websocket_replicas": ({"dify_websocket_replicas": 3}, {"dify_websocket_enabled": True}),
    "dify_agent_enabled": ({"dify_agent_enabled": True}, {}),
    "dify_log_level": ({"dify_log_level": "DEBUG"}, {}),
    "dify_extra_env": ({"dify_extra_env": {"FOO": "bar"}}, {}),
    "dify_pip_mirror_url": ({"dify_pip_mirror_url": "http://pypi.internal/simple"}, {}),
    "dify_marketplace_enabled": ({"dify_marketplace_enabled": True}, {}),
    "dify_ssrf_proxy_allowed_domains": ({"dify_ssrf_proxy_allowed_domains": [".pypi.internal"]}, {}),
    "dify_otel_enabled": ({"dify_otel_enabled": True}, {}),
    "dify_otel_endpoint": ({"dify_otel_endpoint": "http://otel:4318"}, {"dify_otel_enabled": True}),
    "dify_resources": ({"dify_resources": {**DEFAULTS["dify_resources"],
                                           "api": {"requests": {"cpu": "1"}}}}, {}),
    "dify_pdb_enabled": ({"dify_pdb_enabled": False}, {}),
    "dify_hpa_enabled": ({"dify_hpa_enabled": True}, {}),
    "dify_hpa_min_replicas": ({"dify_hpa_min_replicas": 3}, {"dify_hpa_enabled": True}),
    "dify_hpa_max_replicas": ({"dify_hpa_max_replicas": 9}, {"dify_hpa_enabled": True}),
    "dify_hpa_cpu_utilization": ({"dify_hpa_cpu_utilization": 50}, {"dify_hpa_enabled": True}),
    "dify_authorization_policies_enabled": ({"dify_authorization_policies_enabled": False}, {}),
    "dify_network_policies_enabled": ({"dify_network_policies_enabled": False}, {}),
    "dify_secret_name": ({"dify_secret_name": "other-secrets"}, {}),
    "dify_secret_values": ({"dify_secret_values": {"vector_store_password": "x"}},
                           {"dify_vector_store": "qdrant", "dify_vector_store_env": {"QDRANT_URL": "http://q"}}),
    "dify_secret_refs": ({"dify_secret_refs": {"db_password": {"name": "pg", "key": "password"}}}, {}),
    "dify_storage_class": ({"dify_storage_class": "fast"}, {}),
    "dify_postgres_external": ({"dify_postgres_external": True}, {"dify_postgres_host": "pg.internal"}),
    "dify_postgres_host": ({"dify_postgres_host": "pg2.internal"},
                           {"dify_postgres_external": True, "dify_postgres_host": "pg.internal"}),
    "dify_postgres_port": ({"dify_postgres_port": 6432}, {}),
    "dify_postgres_user": ({"dify_postgres_user": "dify"}, {}),
    "dify_postgres_database": ({"dify_postgres_database": "difydb"}, {}),
    "dify_postgres_plugin_database": ({"dify_postgres_plugin_database": "plugins"}, {}),
    "dify_postgres_sslmode": ({"dify_postgres_sslmode": "require"}, {}),
    "dify_postgres_volume_size": ({"dify_postgres_volume_size": "50Gi"}, {}),
    "dify_redis_external": ({"dify_redis_external": True}, {"dify_redis_host": "redis.internal"}),
    "dify_redis_host": ({"dify_redis_host": "redis2.internal"},
                        {"dify_redis_external": True, "dify_redis_host": "redis.internal"}),
    "dify_redis_port": ({"dify_redis_port": 6380}, {}),
    "dify_redis_db": ({"dify_redis_db": 3}, {}),
    "dify_redis_use_ssl": ({"dify_redis_use_ssl": True}, {}),
    "dify_redis_sentinels": ({"dify_redis_sentinels": ["s1:26379", "s2:26379"]},
                             {"dify_redis_external": True, "dify_redis_sentinel_service_name": "mymaster"}),
    "dify_redis_sentinel_service_name": ({"dify_redis_sentinel_service_name": "other"},
                                         {"dify_redis_external": True, "dify_redis_sentinels": ["s1:26379"],
                                          "dify_redis_sentinel_service_name": "mymaster"}),
    "dify_redis_volume_size": ({"dify_redis_volume_size": "8Gi"}, {}),
    "dify_vector_store": ({"dify_vector_store": "qdrant"}, {}),
    "dify_weaviate_external": ({"dify_weaviate_external": True}, {}),
    "dify_weaviate_volume_size": ({"dify_weaviate_volume_size": "80Gi"}, {}),
    "dify_vector_store_env": ({"dify_vector_store_env": {"QDRANT_URL": "http://q"}}, {"dify_vector_store": "qdrant"}),
    "dify_storage_type": ({"dify_storage_type": "s3"}, {}),
    "dify_storage_volume_size": ({"dify_storage_volume_size": "200Gi"}, {}),
    "dify_storage_access_mode": ({"dify_storage_access_mode": "ReadWriteOnce"}, {}),
    "dify_s3_endpoint": ({"dify_s3_endpoint": "http://minio:9000"}, {"dify_storage_type": "s3"}),
    "dify_s3_region": ({"dify_s3_region": "eu-west-1"}, {"dify_storage_type": "s3"}),
    "dify_s3_bucket": ({"dify_s3_bucket": "other"}, {"dify_storage_type": "s3"}),
    "dify_s3_plugin_bucket": ({"dify_s3_plugin_bucket": "other"}, {"dify_storage_type": "s3"}),
    "dify_s3_path_style": ({"dify_s3_path_style": False}, {"dify_storage_type": "s3"}),
    "dify_plugin_volume_size": ({"dify_plugin_volume_size": "99Gi"}, {}),
}


def test_mutation_table_covers_every_rendered_default():
    assert sorted(MUTATIONS) == sorted(set(DEFAULTS) - TASK_ONLY)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_rendered_default_changes_the_manifests(name):
    change, context = MUTATIONS[name]
    before = render(context)
    after = render({**context, **change})
    assert before != after, "changing %s left every manifest as it was" % name


# ---------------------------------------------------------------------------------------------
# Defaults
# ---------------------------------------------------------------------------------------------

def test_default_stack(default_docs):
    deployments = {doc["metadata"]["name"] for doc in find(default_docs, "Deployment")}
    assert deployments == {"dify-api-v1", "dify-web-v1", "dify-worker", "dify-worker-beat", "dify-sandbox",
                           "dify-ssrf-proxy", "dify-plugin-daemon"}
    statefulsets = {doc["metadata"]["name"] for doc in find(default_docs, "StatefulSet")}
    assert statefulsets == {"dify-postgres", "dify-redis", "dify-weaviate"}
    for sts in find(default_docs, "StatefulSet"):
        assert sts["spec"]["volumeClaimTemplates"]
    assert one(default_docs, "Job", "dify-migrate-1-17-1")


def test_beat_runs_exactly_once(default_docs):
    beat = one(default_docs, "Deployment", "dify-worker-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert render({"dify_hpa_enabled": True}) and "dify-worker-beat" not in [
        doc["spec"]["scaleTargetRef"]["name"] for doc in find(render({"dify_hpa_enabled": True}),
                                                              "HorizontalPodAutoscaler")]


def test_only_the_job_migrates(default_docs):
    for doc, container in containers(default_docs):
        env = env_of(container)
        if doc["kind"] == "Job":
            assert env["MODE"]["value"] == "migration"
            assert env["MIGRATION_ENABLED"]["value"] == "true"
        elif "MODE" in env:
            assert env["MIGRATION_ENABLED"]["value"] == "false", doc["metadata"]["name"]


def test_images_come_from_the_registry_and_are_pinned():
    docs = render({"dify_registry": "registry.example.internal/mirror/"})
    images = [container["image"] for _doc, container in containers(docs)]
    assert images
    for image in images:
        assert image.startswith("registry.example.internal/mirror/"), image
        assert not image.endswith(":latest") and ":" in image.split("/")[-1], image


def test_digest_pinning():
    docs = render({"dify_image_overrides": {"sandbox": {"digest": "sha256:" + "a" * 64}}})
    sandbox = one(docs, "Deployment", "dify-sandbox")["spec"]["template"]["spec"]["containers"][0]
    assert sandbox["image"].endswith(":0.2.15@sha256:" + "a" * 64)


def test_port_names_declare_the_protocol(default_docs):
    ports = {(svc["metadata"]["name"], port["port"]): port["name"]
             for svc in find(default_docs, "Service") for port in svc["spec"]["ports"]}
    assert ports[("dify-ssrf-proxy", 3128)].startswith("tcp-")
    assert ports[("dify-weaviate", 50051)].startswith("grpc-")
    assert ports[("dify-weaviate", 8080)].startswith("http-")
    assert ports[("dify-postgres", 5432)].startswith("tcp-")
    assert ports[("dify-redis", 6379)].startswith("tcp-")
    assert ports[("dify-api", 5001)].startswith("http-")
    assert ports[("dify-web", 3000)].startswith("http-")
    assert ports[("dify-plugin-daemon", 5002)].startswith("http-")
    assert ports[("dify-sandbox", 8194)].startswith("http-")
    for name in ports.values():
        assert re.match(r"^(http|http2|https|grpc|tcp|tls)-", name), name


def test_every_pod_has_app_and_version_labels_resources_and_a_service_account(default_docs):
    for doc, spec in pod_specs(default_docs):
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert labels["app"] and labels["version"], doc["metadata"]["name"]
        assert spec["serviceAccountName"] == labels["app"]
        for container in spec["containers"]:
            assert container["resources"]["requests"], doc["metadata"]["name"]


def test_shared_secrets_have_one_source(default_docs):
    groups = {
        "plugin_daemon_key": {"PLUGIN_DAEMON_KEY", "SERVER_KEY"},
        "plugin_inner_api_key": {"INNER_API_KEY_FOR_PLUGIN", "DIFY_INNER_API_KEY"},
        "sandbox_api_key": {"CODE_EXECUTION_API_KEY", "API_KEY"},
        "db_password": {"DB_PASSWORD", "POSTGRES_PASSWORD", "PGPASSWORD"},
        "redis_password": {"REDIS_PASSWORD", "REDISCLI_AUTH"},
        "weaviate_api_key": {"WEAVIATE_API_KEY", "AUTHENTICATION_APIKEY_ALLOWED_KEYS"},
        "secret_key": {"SECRET_KEY"},
    }
    for group, names in groups.items():
        refs = set()
        consumers = set()
        for doc, container in containers(default_docs):
            for name, item in env_of(container).items():
                if name in names:
                    assert "value" not in item, "%s is inline in %s" % (name, doc["metadata"]["name"])
                    ref = item["valueFrom"]["secretKeyRef"]
                    refs.add((ref["name"], ref["key"]))
                    consumers.add(doc["metadata"]["name"])
        assert len(refs) == 1, (group, refs)
        assert len(consumers) >= 2 or group == "secret_key", (group, consumers)


def test_celery_broker_carries_the_redis_password_by_reference(default_docs):
    worker = one(default_docs, "Deployment", "dify-worker")["spec"]["template"]["spec"]["containers"][0]
    names = [item["name"] for item in worker["env"]]
    assert names.index("REDIS_PASSWORD") < names.index("CELERY_BROKER_URL")
    assert env_value(worker, "CELERY_BROKER_URL") == "redis://:$(REDIS_PASSWORD)@dify-redis:6379/1"


def test_gateway_routes(default_docs):
    gateway = one(default_docs, "Gateway", "dify-gateway")
    assert gateway["spec"]["servers"][0]["hosts"] == ["dify.example.com"]
    routes = {route["name"]: route for route in one(default_docs, "VirtualService", "dify")["spec"]["http"]}
    prefixes = [match["uri"]["prefix"] for match in routes["api"]["match"]]
    assert prefixes == ["/console/api", "/api", "/v1", "/files", "/mcp", "/triggers"]
    assert routes["api"]["route"][0]["destination"]["host"].startswith("dify-api.")
    assert routes["plugin-endpoints"]["match"][0]["uri"]["prefix"] == "/e/"
    assert routes["plugin-endpoints"]["route"][0]["destination"]["host"].startswith("dify-plugin-daemon.")
    assert routes["websocket"]["match"][0]["uri"]["prefix"] == "/socket.io/"
    assert "match" not in routes["web"]
    assert routes["web"]["route"][0]["destination"]["host"].startswith("dify-web.")
    for name in ("api", "plugin-endpoints", "websocket"):
        assert int(routes[name]["timeout"].rstrip("s")) > 1200
    assert routes["api"]["retries"] == {"attempts": 0}


def test_security_defaults(default_docs):
    deny = one(default_docs, "AuthorizationPolicy", "dify-default-deny")
    assert deny["spec"] == {}
    allow_api = one(default_docs, "AuthorizationPolicy", "allow-to-dify-api")
    principals = allow_api["spec"]["rules"][0]["from"][0]["source"]["principals"]
    assert "cluster.local/ns/dify/sa/dify-plugin-daemon" in principals
    fence = one(default_docs, "NetworkPolicy", "dify-sandbox-egress")
    assert fence["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"] == {"app": "dify-ssrf-proxy"}
    assert find(default_docs, "PodDisruptionBudget")
    assert not find(default_docs, "HorizontalPodAutoscaler")
    api = one(default_docs, "Deployment", "dify-api-v1")["spec"]["template"]["spec"]
    assert api["securityContext"]["runAsNonRoot"] is True


def test_network_at_start_for_migration_and_plugin_daemon(default_docs):
    for kind, name in (("Job", "dify-migrate-1-17-1"), ("Deployment", "dify-plugin-daemon")):
        annotations = one(default_docs, kind, name)["spec"]["template"]["metadata"]["annotations"]
        assert annotations["sidecar.istio.io/nativeSidecar"] == "true"
        assert "holdApplicationUntilProxyStarts" in annotations["proxy.istio.io/config"]


def test_plugin_database_is_created_before_the_daemon(default_docs):
    spec = one(default_docs, "Deployment", "dify-plugin-daemon")["spec"]["template"]["spec"]
    init = spec["initContainers"][0]
    assert env_value(init, "PLUGIN_DATABASE") == "dify_plugin"
    assert "CREATE DATABASE" in init["command"][-1]
    assert env_value(spec["containers"][0], "DB_DATABASE") == "dify_plugin"


# ---------------------------------------------------------------------------------------------
# Toggles
# ---------------------------------------------------------------------------------------------

def test_side_by_side_tracks():
    docs = render({"dify_tracks": [{"name": "v1", "version": "1.17.0", "api_replicas": 2}, {"name": "v2"}]})
    v1 = one(docs, "Deployment", "dify-api-v1")
    v2 = one(docs, "Deployment", "dify-api-v2")
    assert v1["spec"]["selector"]["matchLabels"] == {"app": "dify-api", "version": "v1"}
    assert v2["spec"]["template"]["metadata"]["labels"]["version"] == "v2"
    assert v1["spec"]["replicas"] == 2
    assert v1["spec"]["template"]["spec"]["containers"][0]["image"].endswith("dify-api:1.17.0")
    assert v2["spec"]["template"]["spec"]["containers"][0]["image"].endswith("dify-api:1.17.1")
    assert one(docs, "Deployment", "dify-web-v1")["spec"]["template"]["spec"]["containers"][0]["image"] \
        .endswith("dify-web:1.17.0")
    assert one(docs, "Service", "dify-api")["spec"]["selector"] == {"app": "dify-api"}


def test_websocket_toggle():
    docs = render({"dify_websocket_enabled": True})
    one(docs, "Deployment", "dify-api-websocket")
    routes = {route["name"]: route for route in one(docs, "VirtualService", "dify")["spec"]["http"]}
    assert routes["websocket"]["route"][0]["destination"]["host"].startswith("dify-api-websocket.")
    lb = one(docs, "DestinationRule", "dify-api-websocket")["spec"]["trafficPolicy"]["loadBalancer"]
    assert "consistentHash" in lb


def test_agent_toggle(default_docs):
    assert not find(default_docs, "Deployment", "dify-agent-backend")
    docs = render({"dify_agent_enabled": True})
    agent = one(docs, "Deployment", "dify-agent-backend")["spec"]["template"]["spec"]["containers"][0]
    assert env_value(agent, "DIFY_AGENT_REDIS_URL").endswith("/2")
    one(docs, "Deployment", "dify-agent-local-sandbox")
    one(docs, "NetworkPolicy", "dify-agent-local-sandbox-egress")
    api = one(docs, "Deployment", "dify-api-v1")["spec"]["template"]["spec"]["containers"][0]
    assert env_of(api)["AGENT_BACKEND_API_TOKEN"]["valueFrom"]["secretKeyRef"] == \
        env_of(agent)["DIFY_AGENT_API_TOKEN"]["valueFrom"]["secretKeyRef"]


def test_external_postgres_and_redis_sentinel():
    docs = render({"dify_postgres_external": True, "dify_postgres_host": "pg.internal",
                   "dify_secret_refs": {"db_password": {"name": "pg", "key": "password"}},
                   "dify_redis_external": True, "dify_redis_sentinels": ["s1:26379", "s2:26379"],
                   "dify_redis_sentinel_service_name": "mymaster"})
    assert not find(docs, "StatefulSet", "dify-postgres")
    assert not find(docs, "StatefulSet", "dify-redis")
    api = one(docs, "Deployment", "dify-api-v1")["spec"]["template"]["spec"]["containers"][0]
    assert env_value(api, "DB_HOST") == "pg.internal"
    assert env_of(api)["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "pg", "key": "password"}
    assert env_value(api, "CELERY_BROKER_URL") == \
        "sentinel://:$(REDIS_PASSWORD)@s1:26379/1;sentinel://:$(REDIS_PASSWORD)@s2:26379/1"
    assert env_value(api, "REDIS_USE_SENTINEL") == "true"
    assert env_value(api, "REDIS_PASSWORD") == ""


@pytest.mark.parametrize("store, settings, secret_env", [
    ("qdrant", {"QDRANT_URL": "http://qdrant:6333"}, "QDRANT_API_KEY"),
    ("pgvector", {"PGVECTOR_HOST": "pgv", "PGVECTOR_PORT": "5432", "PGVECTOR_USER": "u",
                  "PGVECTOR_DATABASE": "d"}, "PGVECTOR_PASSWORD"),
    ("milvus", {"MILVUS_URI": "http://milvus:19530"}, "MILVUS_PASSWORD"),
    ("elasticsearch", {"ELASTICSEARCH_HOST": "es", "ELASTICSEARCH_PORT": "9200"}, "ELASTICSEARCH_PASSWORD"),
])
def test_external_vector_stores(store, settings, secret_env):
    docs = render({"dify_vector_store": store, "dify_vector_store_env": settings,
                   "dify_secret_values": {"vector_store_password": "x"}})
    assert not find(docs, "StatefulSet", "dify-weaviate")
    assert not find(docs, "AuthorizationPolicy", "allow-to-dify-weaviate")
    api = one(docs, "Deployment", "dify-api-v1")["spec"]["template"]["spec"]["containers"][0]
    assert env_value(api, "VECTOR_STORE") == store
    for key, value in settings.items():
        assert env_value(api, key) == value
    assert env_of(api)[secret_env]["valueFrom"]["secretKeyRef"]["key"] == "VECTOR_STORE_PASSWORD"
    assert "WEAVIATE_ENDPOINT" not in env_of(api)


def test_s3_storage():
    docs = render({"dify_storage_type": "s3", "dify_s3_endpoint": "http://minio:9000",
                   "dify_secret_values": {"s3_access_key": "a", "s3_secret_key": "b"}})
    assert not find(docs, "PersistentVolumeClaim")
    api = one(docs, "Deployment", "dify-api-v1")["spec"]["template"]["spec"]["containers"][0]
    assert env_value(api, "STORAGE_TYPE") == "s3"
    assert env_value(api, "S3_ENDPOINT") == "http://minio:9000"
    assert env_of(api)["S3_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "S3_SECRET_KEY"
    assert "volumeMounts" not in api or not api["volumeMounts"]
    plugin = one(docs, "Deployment", "dify-plugin-daemon")["spec"]["template"]["spec"]["containers"][0]
    assert env_value(plugin, "PLUGIN_STORAGE_TYPE") == "aws_s3"
    assert env_of(plugin)["AWS_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "S3_SECRET_KEY"


def test_hpa_toggle():
    docs = render({"dify_hpa_enabled": True, "dify_tracks": [{"name": "v1"}, {"name": "v2"}]})
    targets = {doc["spec"]["scaleTargetRef"]["name"] for doc in find(docs, "HorizontalPodAutoscaler")}
    assert targets == {"dify-api-v1", "dify-api-v2", "dify-web-v1", "dify-web-v2", "dify-worker"}
    assert "replicas" not in one(docs, "Deployment", "dify-api-v1")["spec"]


def test_otel_hook(default_docs):
    api = one(default_docs, "Deployment", "dify-api-v1")["spec"]["template"]["spec"]["containers"][0]
    assert env_value(api, "ENABLE_OTEL") == "false"
    assert "OTLP_BASE_ENDPOINT" not in env_of(api)
    docs = render({"dify_otel_enabled": True, "dify_otel_endpoint": "http://collector.tracing:4318"})
    for name in ("dify-api-v1", "dify-worker", "dify-worker-beat"):
        container = one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert env_value(container, "ENABLE_OTEL") == "true"
        assert env_value(container, "OTLP_BASE_ENDPOINT") == "http://collector.tracing:4318"


def test_pip_mirror_reaches_plugin_daemon_and_sandbox():
    docs = render({"dify_pip_mirror_url": "http://pypi.internal/simple"})
    for name in ("dify-plugin-daemon", "dify-sandbox"):
        container = one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert env_value(container, "PIP_MIRROR_URL") == "http://pypi.internal/simple"


def test_tls_gateway():
    docs = render({"dify_gateway_tls_credential": "dify-tls"})
    servers = one(docs, "Gateway", "dify-gateway")["spec"]["servers"]
    assert servers[0]["tls"] == {"mode": "SIMPLE", "credentialName": "dify-tls"}
    assert servers[1]["tls"] == {"httpsRedirect": True}


def test_existing_gateway():
    docs = render({"dify_gateway_enabled": False, "dify_gateway_ref": "istio-system/main"})
    assert not find(docs, "Gateway")
    assert one(docs, "VirtualService", "dify")["spec"]["gateways"] == ["istio-system/main"]
