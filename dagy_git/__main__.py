"""`python -m dagy_git` runs the CLI."""

from dagy_git.cli.app import main

main()
