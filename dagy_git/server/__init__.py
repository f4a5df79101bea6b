"""`dagy-git serve`: the spec's HTTP API and the Flows UI over the registry branch.

Needs the optional extra `dagy-git[server]` (fastapi, uvicorn, jinja2). Only `app` and the
routers import them; `state` (the cached read model) is plain Python, so `import dagy_git`
and every other command stay light. The rooms:

- `state`: `RegistryState` / `RegistryView`, the registry read once per branch commit;
- `models`: the API's pydantic shapes, named as the spec names them;
- `auth`, `limits`: bearer tokens and request-size limits;
- `api_flows`, `api_deployments`, `api_drafts`: the routers;
- `runs_api`: the `/runs` router (trigger, list, show, cancel runs; a bounded run pool);
- `app`: `create_app`, which wires them (plus the Flows UI of `ui`, when present).
"""
