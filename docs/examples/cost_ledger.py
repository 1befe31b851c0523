"""A command hook for convlog: append one CSV row per model call to a ledger file.

Configure it in a hooks file (``convlog chat --hooks hooks.toml``, or ``load_hooks``)::

    [[after_llm_call]]
    command = ["python", "docs/examples/cost_ledger.py", "ledger.csv"]
    timeout = 5

It reads the ``after_llm_call`` payload (JSON) on stdin. ``cost`` is absent when the call was
unpriced: the row then has an empty cost, never 0.
"""

import csv
import json
import sys
from pathlib import Path

FIELDS = ["conversation_id", "turn_id", "model", "provider", "prompt_tokens",
          "completion_tokens", "cost_usd"]  # fmt: skip


def main() -> None:
    payload = json.load(sys.stdin)
    ledger = Path(sys.argv[1])
    new = not ledger.exists()
    usage = payload["usage"]
    with ledger.open("a", newline="") as out:
        writer = csv.DictWriter(out, FIELDS)
        if new:
            writer.writeheader()
        writer.writerow({
            "conversation_id": payload["conversation_id"],
            "turn_id": payload.get("turn_id", ""),
            "model": payload["model"],
            "provider": payload.get("provider", ""),
            "prompt_tokens": usage.get("prompt_tokens", ""),
            "completion_tokens": usage.get("completion_tokens", ""),
            "cost_usd": payload.get("cost", ""),
        })  # fmt: skip


if __name__ == "__main__":
    main()
