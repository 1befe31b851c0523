"""A writer process for the multi-process and crash tests (run as a script, not collected).

    python append_child.py URL TAG [--appends N] [--events K] [--conversations a,b] [--retry]
                                   [--together]

Appends ``N`` times (0: until killed) ``K`` events to the conversations in turn; every event's
payload is ``[TAG, n, k]`` (append ``n``, event ``k``), so a partial append is detectable. After
each append is acknowledged it prints the result as one JSON line and flushes, so whatever the
parent reads was acknowledged before the process died. ``--retry`` appends with the exact
expected version, retrying on ``WrongExpectedVersion``; otherwise with ``ANY``. With
``--together`` it opens the store, writes ``ready`` to stderr and waits for a line on stdin,
so that a parent can make several writers start appending at the same moment.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys

import msgspec

import eventstore
from schemas import Custom


async def main(args: argparse.Namespace) -> None:
    conversations = args.conversations.split(",")
    versions = dict.fromkeys(conversations, 0)
    out = sys.stdout
    async with eventstore.connect(args.url, durability="full") as store:
        if args.together:
            sys.stderr.write("ready\n")
            sys.stderr.flush()
            await asyncio.to_thread(sys.stdin.readline)
        counter = itertools.count() if args.appends == 0 else range(args.appends)
        for n in counter:
            cid = conversations[n % len(conversations)]
            bodies = [
                Custom(event_type="test.child", payload=[args.tag, n, k])
                for k in range(args.events)
            ]
            if args.retry:
                while True:
                    try:
                        result = await store.append(cid, bodies, expected_version=versions[cid])
                        break
                    except eventstore.WrongExpectedVersion as exc:
                        versions[cid] = exc.actual
            else:
                result = await store.append(cid, bodies)
            versions[cid] = result.version
            out.write(msgspec.json.encode(result).decode() + "\n")
            out.flush()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("tag")
    parser.add_argument("--appends", type=int, default=0)
    parser.add_argument("--events", type=int, default=3)
    parser.add_argument("--conversations", default="shared")
    parser.add_argument("--retry", action="store_true")
    parser.add_argument("--together", action="store_true")
    asyncio.run(main(parser.parse_args()))
