"""``python -m benchmarks``: see benchmarks/cli.py."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
