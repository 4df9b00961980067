"""``python -m portal.witness serve …``: the witness without loading the portal's web app."""

from __future__ import annotations

import argparse
import sys

from portal.witness.cli import add_commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.witness")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["witness", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
