"""One module per ``python -m omiga`` command, each exposing ``register(subparsers)``."""
