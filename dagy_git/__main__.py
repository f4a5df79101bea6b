"""`python -m dagy_git` runs the CLI."""

from dagy_git.cli.entry import main

main()
