"""An S3 (and ELBv2) API endpoint: ``moto_server`` as a subprocess on a loopback port.

Talk to it with boto3 and ``endpoint_url``; it speaks the real HTTP protocol, so multipart
uploads, aborted uploads and listing behave as the client libraries expect.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from .net import free_port, wait_for_port

ACCESS_KEY = "shipyard-test-key"
SECRET_KEY = "shipyard-test-secret-" + "x" * 8
REGION = "us-east-1"


def moto_server_command():
    exe = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
    return [exe] if exe else [sys.executable, "-m", "moto.server"]


@dataclass
class MotoServer:
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.port = self.port or free_port()
        self.logfile = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [*moto_server_command(), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.logfile, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for_port(self.port, proc=self.proc, timeout=60)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        os.unlink(self.logfile.name)

    def client(self, service="s3"):
        import boto3

        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )

    def module_options(self):
        """Options every AWS-talking module of the collection accepts."""
        return {"endpoint_url": self.endpoint, "region": REGION,
                "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}

    def reset(self):
        """Forget every bucket and object (moto's own reset endpoint)."""
        import requests

        requests.post(self.endpoint + "/moto-api/reset", timeout=10).raise_for_status()
