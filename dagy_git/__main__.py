"""`python -m dagy_git` runs the CLI."""

from .cli import main

main()
