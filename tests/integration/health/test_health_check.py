"""health_check against real HTTP backends, a real PostgreSQL and real TCP ports."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from harness.backend import BackendServer
from harness.net import free_port
from harness.playbook import play

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import HealthCheckError
from ansible_collections.shipyard.deploy.plugins.module_utils.health import check_health


@pytest.fixture
def backend():
    server = BackendServer("blue", version="1.4.2").start()
    yield server
    server.stop()


def health_task(name="health", **options):
    return {"name": name, "shipyard.deploy.health_check": options, "register": "result"}


def test_target_that_becomes_healthy_after_a_few_seconds_passes(playbook, backend):
    backend.control(healthy=False)
    stop = threading.Event()

    def heal_after_probes():
        # healthy 3 s after the module's first probe (ansible-playbook's start-up time varies)
        base = backend.requests_served()  # every GET counts, our own /__stats polls included
        polls = 1
        while not stop.wait(0.1):
            polls += 1
            if backend.requests_served() - base - polls >= 1:
                stop.wait(3.0)
                backend.control(healthy=True)
                return

    healer = threading.Thread(target=heal_after_probes, daemon=True)
    healer.start()
    try:
        run = playbook.run(play([health_task(
            targets=[{"name": "blue", "url": backend.url + "/health", "json": {"status": "healthy"}}],
            interval=0.5, timeout=30)]))
    finally:
        stop.set()
        healer.join()
    assert run.rc == 0, run.output
    result = run.task("health")
    (blue,) = result["targets"]
    assert blue["state"] == "passed" and blue["healthy"] is True
    assert blue["attempts"] >= 5  # polled for 3 s while starting, and those failures did not fail it
    assert "503" in blue["last_error"]
    assert result["changed"] is False
    assert result["unhealthy"] == []


def test_flapping_target_fails_after_configured_consecutive_failures(backend):
    stop = threading.Event()

    def flap():
        # healthy 1 s, unhealthy 1 s, ...: with probes every 0.3 s it can never reach 5 successes
        # in a row, and every unhealthy second holds at least 3 failures in a row.
        healthy = True
        while not stop.wait(1.0):
            healthy = not healthy
            backend.control(healthy=healthy)

    flapper = threading.Thread(target=flap, daemon=True)
    flapper.start()
    try:
        with pytest.raises(HealthCheckError) as failure:
            check_health({"targets": [{"name": "flappy", "url": backend.url + "/health"}], "interval": 0.3,
                          "timeout": 20, "success_threshold": 5, "failure_threshold": 3})
    finally:
        stop.set()
        flapper.join()
    (result,) = failure.value.details["targets"]
    assert result["state"] == "failed"
    assert result["consecutive_failures"] == 3
    assert result["successes"] >= 1
    assert failure.value.details["elapsed"] < 5  # decided by the threshold, not by the 20 s timeout
    assert "flappy failed after" in failure.value.message and "status 503" in failure.value.message


def test_wrong_json_field_fails_naming_the_field(playbook, backend):
    backend.control(version="1.4.1")
    run = playbook.run(play([health_task(
        targets=[{"name": "blue", "url": backend.url + "/health",
                  "json": {"status": "healthy", "version": "1.4.2"}}],
        interval=0.3, timeout=1.5)]), check=True)  # check mode checks for real: it only reads
    assert run.rc != 0
    result = run.task("health")
    assert 'blue timed out after' in result["msg"]
    assert 'JSON field version is "1.4.1", expected "1.4.2"' in result["msg"]
    assert result["unhealthy"] == ["blue"]
    assert result["targets"][0]["state"] == "timed_out"


def test_two_hundred_endpoints_in_one_task(playbook):
    servers = [BackendServer("b%d" % i).start() for i in range(4)]
    try:
        targets = [{"url": "%s/health/%d" % (server.url, n), "json": {"status": "healthy"}}
                   for server in servers for n in range(50)]
        started = time.monotonic()
        run = playbook.run(play([health_task(targets=targets, timeout=30)]))
        wall = time.monotonic() - started
    finally:
        for server in servers:
            server.stop()
    assert run.rc == 0, run.output
    result = run.task("health")
    assert len(result["targets"]) == 200 and len(set(t["target"] for t in result["targets"])) == 200
    assert len(result["healthy"]) == 200 and result["probes"] == 200
    assert result["latency"]["count"] == 200 and result["latency"]["p50"] <= result["latency"]["p95"]
    print("\n200 endpoints: module %.2fs, ansible-playbook wall %.2fs, latency %s"
          % (result["elapsed"], wall, result["latency"]))


def test_latency_budget_and_status_codes(backend):
    backend.control(delay=0.2)
    with pytest.raises(HealthCheckError) as failure:
        check_health({"targets": [{"name": "slow", "url": backend.url + "/health", "max_latency": 0.05}],
                      "interval": 0.1, "timeout": 10, "start_period": 0, "failure_threshold": 2})
    assert "slow failed after 2 attempts" in failure.value.message
    assert "exceeds the budget of 50 ms" in failure.value.message
    backend.control(delay=0, healthy=False)
    result = check_health({"targets": [{"url": backend.url + "/health", "status_codes": [503],
                                        "body_pattern": '"status": "unhealthy"'}], "timeout": 5})
    assert result["targets"][0]["status_code"] == 503


def test_tcp_targets():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    closed_port = free_port()
    try:
        with pytest.raises(HealthCheckError) as failure:
            check_health({"targets": [{"name": "open", "host": "127.0.0.1", "port": listener.getsockname()[1]},
                                      {"name": "closed", "host": "127.0.0.1", "port": closed_port}],
                          "interval": 0.1, "timeout": 10, "start_period": 0})
    finally:
        listener.close()
    details = failure.value.details
    assert details["healthy"] == ["open"] and details["unhealthy"] == ["closed"]
    assert "1 of 2 targets unhealthy" in failure.value.message
    assert "closed failed after 3 attempts: cannot connect to 127.0.0.1:%d" % closed_port in failure.value.message


def test_postgres_target_and_secrets_stay_out_of_output(playbook, pg, backend):
    target = dict(pg.conn_options("postgres"), name="primary", query="SELECT NOT pg_is_in_recovery()")
    token = "tok-" + "9f3b1c2d7e"
    run = playbook.run(play([
        health_task(targets=[target, {"name": "app", "url": backend.url + "/health", "bearer_token": token}],
                    timeout=20),
        health_task("wrong password", targets=[dict(target, password="not-the-password")], timeout=1.5,
                    interval=0.5, start_period=0, failure_threshold=2),
    ]), verbosity=3)
    result = run.task("health")
    assert run.status("health") == "ok", run.output
    primary = result["targets"][0]
    assert primary["state"] == "passed" and primary["value"] is True and primary["latency_ms"] > 0
    wrong = run.task("wrong password")
    assert run.status("wrong password") == "failed"
    assert "primary failed after 2 attempts: cannot connect to PostgreSQL" in wrong["msg"]
    assert "password authentication failed" in wrong["msg"]
    for secret in (pg.password, "not-the-password", token):
        assert secret not in run.output


@pytest.fixture
def tls_server(tmp_path):
    """A real HTTPS server on loopback with a self-signed certificate for 127.0.0.1."""
    import http.server
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"status": "healthy"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d/health" % server.server_address[1], str(cert)
    server.shutdown()
    server.server_close()


def test_tls_is_verified_by_default_and_a_ca_bundle_makes_it_pass(tls_server):
    url, ca = tls_server
    with pytest.raises(HealthCheckError) as failure:
        check_health({"targets": [{"name": "tls", "url": url}], "timeout": 5, "start_period": 0,
                      "interval": 0.1, "failure_threshold": 1})
    assert "CERTIFICATE_VERIFY_FAILED" in failure.value.message or "certificate verify failed" in failure.value.message
    result = check_health({"targets": [{"name": "tls", "url": url, "json": {"status": "healthy"}}], "ca_path": ca,
                           "timeout": 5})
    assert result["healthy"] == ["tls"]


def test_host_header_and_bearer_token_reach_a_real_load_balancer(backend):
    """HAProxy routes only the right virtual host with the right token to the app: the check passes
    only when both headers really arrive."""
    from harness.haproxy import HAProxyServer

    port = free_port()
    vhost = """
frontend vhost
    bind 127.0.0.1:%d
    http-request deny deny_status 401 unless { req.hdr(authorization) -m str "Bearer s3cret-token" }
    use_backend app if { req.hdr(host) -i shop.example.com }
""" % port
    haproxy = HAProxyServer(slots={"blue": [backend]}, extra_defaults=vhost).start()
    try:
        url = "http://127.0.0.1:%d/health" % port
        options = {"interval": 0.1, "timeout": 10, "start_period": 0, "failure_threshold": 2}
        with pytest.raises(HealthCheckError) as failure:
            check_health(dict(options, targets=[{"name": "no-host", "url": url, "bearer_token": "s3cret-token"},
                                                {"name": "no-token", "url": url,
                                                 "headers": {"Host": "shop.example.com"}}]))
        assert "no-host failed after 2 attempts: status 503" in failure.value.message
        assert "no-token failed after 2 attempts: status 401" in failure.value.message
        result = check_health(dict(options, headers={"Host": "shop.example.com"}, bearer_token="s3cret-token",
                                   targets=[{"name": "via-lb", "url": url, "json": {"slot": "blue"}}]))
        assert result["healthy"] == ["via-lb"]
    finally:
        haproxy.stop()
