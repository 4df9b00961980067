"""``portal witness serve`` as a real process on an ephemeral loopback port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from portal.audit.cosignature import cosigner_vkey

NAME = "witness.schoolboard.example"


class WitnessProcess:
    """Start, stop and start again (on the same port) a witness with its own key and storage."""

    def __init__(self, directory: Path, log_vkeys: list[str]) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.key_file = directory / "witness-key.pem"
        self.key_file.write_bytes(self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                         NoEncryption()))
        self.data_dir = directory / "witness-data"
        self.log_vkeys = log_vkeys
        self.port = 0
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    @property
    def vkey(self) -> str:
        return cosigner_vkey(NAME, self.key.public_key())

    def start(self) -> WitnessProcess:
        command = [sys.executable, "-m", "portal.witness", "serve", "--name", NAME,
                   "--key-file", str(self.key_file), "--data-dir", str(self.data_dir),
                   "--port", str(self.port)]
        if not self.data_dir.exists():
            command.append("--init")
        for vkey in self.log_vkeys:
            command += ["--log-vkey", vkey]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # printed once the socket is bound
        assert line.startswith("witness listening on "), line
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def cosigned_sizes(self) -> list[int]:
        """Every size this witness cosigned, in order (from its journal)."""
        journal = self.data_dir / "cosigned.log"
        if not journal.exists():
            return []
        return [int(line.split()[2]) for line in journal.read_text().splitlines()]

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=20)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
