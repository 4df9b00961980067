"""``portal witness …``: run the witness, make its key, print its verifier key.

``serve`` binds first and then prints ``witness listening on http://HOST:PORT``
(with ``--port 0`` the system picks a free port; the line says which).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from portal.audit.checkpoint import parse_verifier_key
from portal.audit.cosignature import cosigner_vkey
from portal.witness.protocol import Witness
from portal.witness.store import WitnessStore


def _load_key(path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def cmd_keygen(args: argparse.Namespace) -> int:
    path = Path(args.key_file)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    except FileExistsError:
        print(f"portal witness keygen: {path} exists; a witness key is never replaced",
              file=sys.stderr)
        return 2
    print(cosigner_vkey(args.name, key.public_key()))
    return 0


def cmd_vkey(args: argparse.Namespace) -> int:
    print(cosigner_vkey(args.name, _load_key(Path(args.key_file)).public_key()))
    return 0


IDENTITY_FILE = "witness.vkey"


def _check_data_dir(directory: Path, vkey: str, init: bool) -> str | None:
    """The directory must belong to this key: a witness restarted with an empty (lost)
    directory would cosign any history again, so starting afresh needs ``--init``."""
    identity = directory / IDENTITY_FILE
    if init:
        if directory.exists() and any(directory.iterdir()):
            return f"--init: {directory} is not empty; a witness's memory is never reset"
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        identity.write_text(vkey + "\n", encoding="utf-8")
        return None
    if not identity.exists():
        return (f"{directory} holds no witness state; give --init for a new witness "
                "(a witness that lost its directory gets a new key)")
    if identity.read_text(encoding="utf-8").strip() != vkey:
        return f"{directory} belongs to another witness key"
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from portal.witness.app import create_app

    try:
        key = _load_key(Path(args.key_file))
        logs = [parse_verifier_key(vkey) for vkey in args.log_vkey]
    except (OSError, ValueError) as exc:
        print(f"portal witness serve: {exc}", file=sys.stderr)
        return 2
    if not logs:
        print("portal witness serve: give the log's verifier key with --log-vkey",
              file=sys.stderr)
        return 2
    vkey = cosigner_vkey(args.name, key.public_key())
    problem = _check_data_dir(Path(args.data_dir), vkey, args.init)
    if problem:
        print(f"portal witness serve: {problem}", file=sys.stderr)
        return 2
    witness = Witness(name=args.name, key=key, logs=logs,
                      store=WitnessStore(Path(args.data_dir)))
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)  # connections queue from now on, so the line below is the truth
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(create_app(witness), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    print(f"witness listening on http://{host}:{port}", flush=True)
    server.run(sockets=[sock])
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    witness = sub.add_parser("witness", help="a witness for another portal's access log"
                             ).add_subparsers(dest="witness", required=True)
    serve = witness.add_parser("serve", help="run the tlog-witness HTTP service")
    serve.add_argument("--name", required=True, help="the witness's name, e.g. "
                       "witness.schoolboard.example")
    serve.add_argument("--key-file", required=True, help="its Ed25519 key (PEM)")
    serve.add_argument("--data-dir", required=True, help="where it keeps what it cosigned")
    serve.add_argument("--log-vkey", action="append", default=[],
                       help="verifier key of a log it witnesses (`portal audit vkey`)")
    serve.add_argument("--init", action="store_true",
                       help="first start: create the (empty) storage directory")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7380)
    serve.set_defaults(func=cmd_serve)
    keygen = witness.add_parser("keygen", help="create the witness key; print its vkey")
    keygen.add_argument("--name", required=True)
    keygen.add_argument("--key-file", required=True)
    keygen.set_defaults(func=cmd_keygen)
    vkey = witness.add_parser("vkey", help="print the witness's verifier key")
    vkey.add_argument("--name", required=True)
    vkey.add_argument("--key-file", required=True)
    vkey.set_defaults(func=cmd_vkey)
