"""The service under a benchmark signs in as it does in production: as a plain login role that owns nothing
and holds only the rights service/core/roles.py declares (docs/operations.md, "Two database roles"), never as
the server's superuser that generated and owns the data. So it runs outside development mode (no MR_DEV),
with the role check, the secrets check and secure cookies of a real deployment.

`service_url(owner_url)` makes sure of the role on the server and grants it its rights on that database (the
same `apply_grants` that `matter-registry migrate` runs), plus SELECT and INSERT on the plain-INSERT baseline's
table; it returns the same database's URL signed in as that role. `signing_key(folder)`: an Ed25519 key
file for the audit sequencer (MR_AUDIT_SIGNING_KEY_FILE), which outside development must be given.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import asyncpg

from bench.admission_app import PLAIN_TABLE
from service.core import roles
from service.core.db import connect

SERVICE_ROLE = "mr_bench_service"
# the bench server listens on a Unix socket of its own and trusts local connections (as make run's does):
# what keeps the service in its place is the split of rights, not this password
SERVICE_PASSWORD = "bench-service-password-0123456789"


async def service_url(owner_url: str) -> str:
    conn = await connect(owner_url)
    try:
        # two benchmarks may start at once: the loser of the create finds the role there
        with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            await roles.ensure_login_role(conn, SERVICE_ROLE, SERVICE_PASSWORD)
        async with conn.transaction():
            await conn.execute(PLAIN_TABLE)
            await roles.apply_grants(conn, SERVICE_ROLE)
            # the baseline's own table (not the service's, so not in roles.TABLE_RIGHTS)
            await conn.execute(f'grant select, insert on bench_plain to "{SERVICE_ROLE}"')
    finally:
        await conn.close()
    return roles.with_user(owner_url, SERVICE_ROLE, SERVICE_PASSWORD)


def signing_key(folder: str | Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(folder) / "audit-signing-key.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    path.chmod(0o600)
    return path
