"""One portal worker process for the concurrency test: ``python -m tests.audit.portal_worker``.

Serves the portal on a fresh loopback port (printed on stdout as ``PORT <n>``)
against the database and data directory given, until it is terminated, the way
``uvicorn --workers N`` runs several processes on one database.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from portal.app import create_app
from portal.settings import Settings
from tests.harness import bind_socket


def main(database_url: str, data_dir: str, public_url: str = "", witness_url: str = "",
         witness_vkey: str = "") -> None:
    sock = bind_socket()
    port = sock.getsockname()[1]
    settings = Settings(mode="dev", public_url=public_url or f"http://127.0.0.1:{port}",
                        database_url=database_url, data_dir=Path(data_dir),
                        audit_checkpoint_every=10, audit_checkpoint_url=witness_url,
                        audit_witness_vkey=witness_vkey)
    app = create_app(settings)
    # Listen before telling the test the port: a bound socket that is not yet
    # listening refuses connections until uvicorn has started (a race under load).
    sock.listen(128)
    print(f"PORT {port}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           access_log=False))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main(*sys.argv[1:])
