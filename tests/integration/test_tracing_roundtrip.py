"""A real span round trip through the tracing role's Jaeger v2 configuration and its check.

Jaeger v2 is built from the Go module proxy by tools/tracing/build-jaeger.sh into
.cache/tracing/current/jaeger. The test renders the role's own Jaeger configuration
(roles/tracing/templates/jaeger-config.yaml.j2, in-memory storage) with every listener moved to
127.0.0.1 on free ports, starts the binary, and then:

- runs the role's post-install check (tasks_from: check.yml) against it: OTLP/HTTP JSON in, the
  span read back through Jaeger's query API;
- sends a Zipkin JSON v2 span (what Envoy sends with the zipkin provider) to Jaeger's Zipkin
  receiver and reads it back;
- has the binary validate the configuration the role writes for each storage;
- shows that the check says it skipped when nothing listens, and fails when something answers but
  does not take the span.

Everything stays on loopback. The tests skip when the binary has not been built.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(REPO, "roles", "tracing")
JAEGER = os.environ.get("DIFYMESH_JAEGER_BIN", os.path.join(REPO, ".cache", "tracing", "current", "jaeger"))
BIN = os.path.dirname(sys.executable)
PORT_NAMES = ("otlp_grpc", "otlp_http", "zipkin", "query_http", "query_grpc", "health", "metrics")

pytestmark = pytest.mark.skipif(
    not os.access(JAEGER, os.X_OK),
    reason="Jaeger v2 binary not built (%s missing); run `bash tools/tracing/build-jaeger.sh` "
           "to build it from the Go module proxy" % JAEGER)


def ansible_env():
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "collections"),
                ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default")


def free_ports(count):
    sockets = []
    try:
        for _attempt in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def http(method, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def render_config(path, ports, **settings):
    """Render the role's Jaeger configuration with its defaults, listening on loopback."""
    overrides = dict({"__tracing_listen_host": "127.0.0.1", "__tracing_ports": ports, "tracing_jaeger_storage": "memory"},
                     **settings)
    command = [os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-m", "ansible.builtin.template",
               "-a", "src=%s dest=%s" % (os.path.join(ROLE, "templates", "jaeger-config.yaml.j2"), path),
               "-e", "@" + os.path.join(ROLE, "defaults", "main.yml"),
               "-e", "@" + os.path.join(ROLE, "vars", "main.yml"),
               "-e", json.dumps(overrides), "-e", "ansible_python_interpreter=%s" % sys.executable]
    result = subprocess.run(command, env=ansible_env(), capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def jaeger(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("jaeger")
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES))))
    config = workdir / "config.yaml"
    render_config(str(config), ports)
    log = open(workdir / "jaeger.log", "w", encoding="utf-8")  # pylint: disable=consider-using-with
    process = subprocess.Popen([JAEGER, "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                               cwd=str(workdir))
    base = {name: "http://127.0.0.1:%d" % port for name, port in ports.items()}
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail("jaeger exited with %s: %s" % (process.returncode, (workdir / "jaeger.log").read_text()))
            try:
                if http("GET", base["health"] + "/status", timeout=2)[0] == 200 and \
                        http("GET", base["query_http"] + "/api/services", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("jaeger did not become ready: %s" % (workdir / "jaeger.log").read_text())
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run_check(tmp_path, extra_vars):
    playbook = tmp_path / "check.yml"
    playbook.write_text("""---
- name: Run the tracing role's post-install check
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the check
      ansible.builtin.include_role:
        name: difymesh.platform.tracing
        tasks_from: check.yml
    - name: Hand the result to the test
      ansible.builtin.debug:
        msg: "RESULT={{ tracing_check_result | to_json }}"
""")
    command = [os.path.join(BIN, "ansible-playbook"), str(playbook), "-i", "localhost,", "-c", "local",
               "-e", json.dumps(extra_vars), "-e", "ansible_python_interpreter=%s" % sys.executable]
    return subprocess.run(command, env=ansible_env(), capture_output=True, text=True, check=False, timeout=300)


def result_of(run):
    line = [line for line in run.stdout.splitlines() if '"msg": "RESULT=' in line][-1]
    return json.loads(json.loads("{%s}" % line.strip())["msg"][len("RESULT="):])


def jaeger_trace(query_base, trace_id, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = http("GET", "%s/api/traces/%s" % (query_base, trace_id))
        if status == 200:
            return json.loads(body)["data"][0]
        time.sleep(0.5)
    raise AssertionError("trace %s never became readable at %s" % (trace_id, query_base))


@pytest.mark.parametrize("storage", ["memory", "badger", "elasticsearch", "opensearch"])
def test_config_validates(storage, tmp_path):
    config = tmp_path / "config.yaml"
    render_config(str(config), dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)))), tracing_jaeger_storage=storage,
                  tracing_elasticsearch_urls=["http://127.0.0.1:9200"], tracing_elasticsearch_secret="search",
                  tracing_elasticsearch_index_prefix="difymesh")
    result = subprocess.run([JAEGER, "validate", "--config", str(config)], capture_output=True, text=True, check=False,
                            timeout=60, env=dict(os.environ, ES_USERNAME="user", ES_PASSWORD="secret"), cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_role_check_round_trip(jaeger, tmp_path):
    run = run_check(tmp_path, {"tracing_check_url": jaeger["otlp_http"], "tracing_check_query_url": jaeger["query_http"]})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    result = result_of(run)
    assert result["status"] == "passed"
    assert "tracing check passed: span difymesh-tracing-check" in run.stdout
    # Read the same trace independently of the role.
    trace = jaeger_trace(jaeger["query_http"], result["trace_id"])
    assert [span["operationName"] for span in trace["spans"]] == ["difymesh-tracing-check"]
    assert trace["processes"][trace["spans"][0]["processID"]]["serviceName"] == "difymesh-tracing-check"


def test_zipkin_span_round_trip(jaeger):
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    now_us = int(time.time() * 1e6)
    span = {"traceId": trace_id, "id": span_id, "name": "envoy-ingress", "kind": "SERVER", "timestamp": now_us,
            "duration": 1500, "localEndpoint": {"serviceName": "istio-ingressgateway"},
            "tags": {"http.method": "GET", "http.status_code": "200"}}
    status, _body = http("POST", jaeger["zipkin"] + "/api/v2/spans", [span])
    assert status == 202
    trace = jaeger_trace(jaeger["query_http"], trace_id)
    assert [s["spanID"] for s in trace["spans"]] == [span_id]
    assert trace["spans"][0]["operationName"] == "envoy-ingress"
    tags = {t["key"]: t["value"] for t in trace["spans"][0]["tags"]}
    assert tags["http.method"] == "GET"


def test_check_skips_when_nothing_listens(tmp_path):
    otlp, query = free_ports(2)
    run = run_check(tmp_path, {"tracing_check_url": "http://127.0.0.1:%d" % otlp,
                               "tracing_check_query_url": "http://127.0.0.1:%d" % query})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert result_of(run)["status"] == "skipped"
    assert "skipped: backend not reachable" in run.stdout


def test_check_fails_when_the_backend_does_not_take_the_span(jaeger, tmp_path):
    # Something answers (Jaeger's health port) but it is no OTLP receiver: a real failure, not a skip.
    run = run_check(tmp_path, {"tracing_check_url": jaeger["health"], "tracing_check_query_url": jaeger["query_http"],
                               "tracing_check_timeout": 4})
    assert run.returncode != 0
    assert "Send the span as OTLP/HTTP JSON" in run.stdout
