"""Code shared by the team's flows: tasks, helpers that call them, hooks and checks.

Nothing in this package defines a flow.
"""
