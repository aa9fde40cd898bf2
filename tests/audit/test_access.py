"""Who passes the guard for each audit operation: readers of the log, and everyone for the proofs."""

from __future__ import annotations

from tests.conftest import bearer

READERS = {"county-supervisor", "province-admin"}
CALLERS = ["civil-affairs", "xingsha-office", "songya-community", "county-supervisor", "county-reviewer-api",
           "county-orgdept-api", "province-admin", "wangcheng-civil"]
RESTRICTED = ["/api/v1/audit/events", "/api/v1/audit/export"]
PUBLIC = ["/api/v1/audit/proofs/inclusion?index=0&tree_size=1", "/api/v1/audit/proofs/consistency?first=1&second=1",
          "/api/v1/audit/checkpoint", "/api/v1/audit/checkpoints", "/api/v1/audit/public-key"]


async def test_only_supervisors_and_admins_read_events_while_proofs_are_public(client, demo, sequencer):
    await sequencer.checkpoint_now()
    for path in RESTRICTED:
        assert (await client.get(path)).status_code == 401
        for name in CALLERS:
            status = (await client.get(path, headers=bearer(demo.tokens[name]))).status_code
            assert (status == 200) == (name in READERS), (path, name, status)
            assert status in (200, 403), (path, name, status)
    for path in PUBLIC:
        assert (await client.get(path)).status_code == 200, path
