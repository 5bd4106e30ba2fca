"""`python -m vae ...`: the command-line interface (see vae/cli/)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
