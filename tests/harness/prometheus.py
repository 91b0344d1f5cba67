"""A real Prometheus (Debian package ``prometheus``) on loopback, scraping given targets every second.

Used by the canary-analysis tests: it scrapes HAProxy's built-in exporter
(``http-request use-service prometheus-exporter``), so the PromQL the module runs is answered by
Prometheus itself from real scraped samples.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import requests
import yaml

from .net import free_port, wait_for_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def available():
    """Whether the prometheus binary is installed."""
    return os.path.exists(PROMETHEUS)


class PrometheusServer:
    """``PrometheusServer({"haproxy": ["127.0.0.1:8405"]}).start()``; ``.url``; ``.query(promql)``; ``.stop()``."""

    def __init__(self, targets, scrape_interval="1s", workdir=None):
        self.targets = targets
        self.scrape_interval = scrape_interval
        self.workdir = workdir or tempfile.mkdtemp(prefix="shipyard-prometheus-")
        self.port = 0
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.port = self.port or free_port()
        config = {
            "global": {"scrape_interval": self.scrape_interval, "evaluation_interval": self.scrape_interval},
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": list(addresses)}]}
                               for job, addresses in self.targets.items()],
        }
        config_path = os.path.join(self.workdir, "prometheus.yml")
        with open(config_path, "w") as handle:
            yaml.safe_dump(config, handle)
        self.log = open(os.path.join(self.workdir, "prometheus.log"), "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config_path, "--storage.tsdb.path=" + os.path.join(self.workdir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, proc=self.proc, timeout=30)
        return self

    def query(self, promql):
        """The JSON ``data.result`` of an instant query."""
        answer = requests.get(self.url + "/api/v1/query", params={"query": promql}, timeout=5).json()
        return answer["data"]["result"]

    def wait_for_scrapes(self, job, samples=2, timeout=30.0):
        """Wait until every target of ``job`` is up and has ``samples`` samples of ``up``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query('count_over_time(up{job="%s"}[1m]) >= %d' % (job, samples))
            if len(result) == len(self.targets[job]):
                return
            time.sleep(0.2)
        raise TimeoutError("prometheus did not scrape job %s %d times in %.0fs" % (job, samples, timeout))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc is not None:
            self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
