"""Audit-area fixtures: the app's sequencer, a root-level auditor, events made on demand."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from service.audit import keys
from service.audit.sequencer import Sequencer, sources_present
from service.core.audit import Actor, record
from service.core.db import create_pool
from tests.conftest import service_url

GOPATH = "/usr/share/gocode"


@pytest.fixture
async def sequencer(client, database, settings) -> AsyncIterator[Sequencer]:
    """A sequencer on the test's own event loop (the app's runs on the test client's), same key, same
    database: the advisory lock keeps the two from overlapping, as with two processes."""
    pool = await create_pool(service_url(database), min_size=1, max_size=3)  # as the service signs in
    try:
        async with pool.acquire() as conn:
            sources = await sources_present(conn)
        yield Sequencer(pool, keys.load_signing_key(settings), sources)
    finally:
        await pool.close()


@pytest.fixture
async def root_auditor(client, db, as_client) -> dict[str, str]:
    """The province-admin client, also granted `admin` at the root (sees unscoped events too)."""
    client_id = await db.fetchval("select id from api_client where name = 'province-admin'")
    await db.execute("insert into role_assignment (principal_type, principal_id, role, jurisdiction_code, granted_by) "
                     "values ('client', $1, 'admin', '00', 'test')", client_id)
    await client.app.state.authorizer.refresh(db)
    return as_client("province-admin")


async def add_events(db, n: int, **fields: Any) -> list[int]:
    actor = Actor(actor_type=fields.pop("actor_type", "system"), actor_id=fields.pop("actor_id", None),
                  actor_name=fields.pop("actor_name", "bench"), role=fields.pop("role", None))
    ids = []
    for i in range(n):
        ids.append(await record(db, actor=actor, action=fields.get("action", "test.event"),
                                subject_type=fields.get("subject_type", "thing"),
                                subject_id=fields.get("subject_id", str(i)),
                                jurisdiction=fields.get("jurisdiction"), outcome=fields.get("outcome", "ok"),
                                detail={"n": i, "名": "事项"}))
    return ids


GO_VERIFIER = Path(__file__).parent / "interop" / "verify.go"


@pytest.fixture(scope="session")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/audit/interop/verify.go built against Debian's golang-golang-x-mod-dev (GOPATH mode, no
    network); `make test` installs golang-go and that package (the `interop` target)."""
    go = shutil.which("go")
    assert go, "Go is missing: `make interop` installs Debian's golang-go and golang-golang-x-mod-dev"
    assert Path(GOPATH, "src/golang.org/x/mod/sumdb/note").is_dir(), \
        "golang.org/x/mod is missing: `make interop` installs Debian's golang-golang-x-mod-dev"
    out = tmp_path_factory.mktemp("go")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(out), "GOPATH": GOPATH, "GO111MODULE": "off",
           "GOCACHE": str(out / "cache"), "GOFLAGS": "", "CGO_ENABLED": "0", "GOPROXY": "off"}
    built = subprocess.run([go, "build", "-o", str(out / "verify"), str(GO_VERIFIER)], env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    return out / "verify"
