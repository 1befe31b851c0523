"""``python -m harness.cli``: the ``convlog`` command, without its console script."""

from . import main

if __name__ == "__main__":
    main()
