"""The interface layer: the `dagy-git` CLI, the pre-commit entry points, the GitHub Action."""
