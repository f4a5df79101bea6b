"""Runs of registered flow versions: the exact registered code, in a child process.

Rooms, importing one way: `types` (plain data) | `schema` (migrations) ← `store` (the SQLite
runs store) ← `materialise` (registered code into a temporary folder) | `runner` (the child
process: deadline, cancel, crash) ← `launch` (resolve, check, record, execute) ←
`scheduler` (cron slots, once each) ← `worker` (the loop). `child` is the child process's
entry point; it imports only `types` and `dagy_git.observe`.
"""
