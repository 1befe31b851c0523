"""Serve a script by hand: ``python -m harness.fake [--port N] [SCRIPT]``.

``SCRIPT`` is a JSON or TOML file holding a :class:`~harness.fake.Script`; without one every
request gets a short greeting. Prints the base URLs, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading

from ._script import Reply, Script, load_script
from ._server import FakeProvider

_GREETING = Reply(text="Hello from the convlog fake provider.")


def main(argv: list[str] | None = None) -> int:
    """Run the server until interrupted; 0 on a clean stop, 2 for a bad script or port."""
    parser = argparse.ArgumentParser(prog="python -m harness.fake", description=__doc__)
    parser.add_argument("script", nargs="?", help="a .json or .toml script file")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script) if args.script else Script(default=_GREETING)
        server = FakeProvider(script.steps, default=script.default, port=args.port).start()
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Ctrl-C is how it stops, and may come as soon as the URLs are read, mid-print.
    try:
        with contextlib.suppress(KeyboardInterrupt):
            print(f"OpenAI:    base_url={server.openai_base_url}", flush=True)
            print(f"Anthropic: base_url={server.anthropic_base_url}", flush=True)
            threading.Event().wait()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
