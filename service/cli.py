"""`matter-registry`: run, migrate, load demo data, manage users and tokens, export the OpenAPI schema.

Every failure prints one clear line to stderr and exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from service.core import migrate as migrations
from service.core import queries as core_queries
from service.core import roles
from service.core.audit import Actor
from service.core.db import connect
from service.core.embedded import embedded_urls, stop_embedded
from service.core.settings import Settings, SettingsError, load_settings


class CliError(Exception):
    pass


CLI_ACTOR = Actor(actor_type="system", actor_id=None, actor_name=f"cli:{getpass.getuser()}")


async def _embedded_async(settings: Settings) -> tuple[str, str]:
    try:
        return await embedded_urls(settings.data_dir)
    except Exception as exc:
        raise CliError(f"could not start the embedded PostgreSQL in {settings.data_dir / 'pg'}: {exc}") from exc


async def _database_url(settings: Settings) -> str:
    """Where the service's own role signs in: DATABASE_URL, or the embedded server as `mr_service`."""
    if settings.database_url:
        return settings.database_url
    return (await _embedded_async(settings))[1]


async def _owner_url(settings: Settings) -> str:
    """Where migrations run: MIGRATION_DATABASE_URL (the owner), else DATABASE_URL, else the embedded owner."""
    if settings.migration_database_url:
        return settings.migration_database_url
    if settings.database_url:
        return settings.database_url
    return (await _embedded_async(settings))[0]


def _service_role(settings: Settings) -> str | None:
    """The role `migrate` grants the service's rights to (None: the service signs in as the owner itself)."""
    if not settings.database_url:
        return roles.EMBEDDED_SERVICE_ROLE
    if not settings.migration_database_url:
        return None
    service, owner = roles.user_of(settings.database_url), roles.user_of(settings.migration_database_url)
    if service is None:
        raise CliError("DATABASE_URL names no user: cannot tell which role the service signs in as, to grant "
                       "it its rights (docs/operations.md)")
    return None if service == owner else service


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await connect(url)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise CliError(f"cannot reach PostgreSQL ({_redact(url)}): {exc}") from exc


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


async def _with_conn(settings: Settings, fn: Callable[[asyncpg.Connection], Awaitable[Any]], *,
                     owner: bool = False) -> Any:
    conn = await _connect(await (_owner_url(settings) if owner else _database_url(settings)))
    try:
        return await fn(conn)
    finally:
        await conn.close()


async def _in_transaction(settings: Settings, fn: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    async def run(conn: asyncpg.Connection) -> Any:
        async with conn.transaction():
            return await fn(conn)

    return await _with_conn(settings, run)


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> None:
    grant_to = _service_role(settings)

    async def run(conn: asyncpg.Connection) -> list[str]:
        try:
            return await migrations.migrate(conn, settings.migrations_dir, grant_to=grant_to)
        except migrations.MigrationError as exc:
            raise CliError(str(exc)) from exc

    applied = asyncio.run(_with_conn(settings, run, owner=True))
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else "; schema is current"))
    if grant_to is not None:
        print(f"the service's database role {grant_to} holds exactly its declared rights (service/core/roles.py)")
    else:
        print("note: the service signs in as the role that owns the schema; set MIGRATION_DATABASE_URL to the "
              "owner and DATABASE_URL to a role of its own (docs/operations.md)")


def _credentials_file(settings: Settings) -> Path:
    return settings.data_dir / "demo-credentials.txt"


def _require(settings: Settings, *names: str) -> None:
    try:
        settings.require_secrets(*names)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc


def cmd_load_demo(settings: Settings, _args: argparse.Namespace) -> None:
    from service.demo.loader import describe, load

    _require(settings, "MR_TOKEN_PEPPER")

    async def run(conn: asyncpg.Connection) -> Any:
        behind = await migrations.pending(conn, settings.migrations_dir)
        if behind:
            raise CliError("schema is behind; run `matter-registry migrate` first")
        return await load(conn, pepper=settings.token_pepper)

    creds = asyncio.run(_with_conn(settings, run))
    if creds is None:
        print(f"demo data already loaded; the credentials were shown at first load (kept in "
              f"{_credentials_file(settings)} for the embedded database)")
        return
    text = describe(creds)
    if not settings.database_url:
        path = _credentials_file(settings)
        path.write_text(text + "\n", encoding="utf-8")
        path.chmod(0o600)
    print(text)


def _check_ready(settings: Settings) -> str:
    """Refuse to serve (one line) without the secrets, with the schema behind, or as a privileged role."""
    _require(settings)
    if not settings.dev_mode:
        from service.audit import keys

        try:
            keys.load_signing_key(settings)
        except (keys.SigningKeyMissing, ValueError, OSError) as exc:
            raise CliError(f"MR_AUDIT_SIGNING_KEY_FILE: {exc}") from exc

    async def run(conn: asyncpg.Connection) -> None:
        try:
            behind = await migrations.pending(conn, settings.migrations_dir)
        except migrations.MigrationError as exc:
            raise CliError(str(exc)) from exc
        if behind:
            raise CliError(f"schema is behind by {len(behind)} migration(s) ({', '.join(behind)}); "
                           "run `matter-registry migrate` first")
        if not settings.dev_mode:
            try:
                await roles.check_unprivileged(conn, await conn.fetchval(core_queries.CURRENT_USER))
            except roles.RoleError as exc:
                raise CliError(str(exc)) from exc

    async def main() -> str:
        url = await _database_url(settings)
        conn = await _connect(url)
        try:
            await run(conn)
        finally:
            await conn.close()
        return url

    return asyncio.run(main())


def _serve(settings: Settings, url: str, *, host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    # the workers read their settings from the environment: hand them the server we resolved
    os.environ["DATABASE_URL"] = url
    print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/schema)", flush=True)
    Granian(
        target="service.app:create_app", factory=True, address=host, port=port, interface=Interfaces.ASGI,
        workers=workers, log_access=False, respawn_failed_workers=True,
    ).serve()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    url = _check_ready(settings)
    _serve(settings, url, host=args.host or settings.host, port=args.port or settings.port, workers=args.workers)


def cmd_dev(settings: Settings, args: argparse.Namespace) -> None:
    """Everything a newcomer needs: database, schema, demo data, server."""
    os.environ.setdefault("MR_DEV", "1")
    settings = load_settings()
    embedded = f"embedded, data in {settings.data_dir / 'pg'}"
    where = _redact(settings.database_url) if settings.database_url else embedded
    print(f"PostgreSQL: {where}", flush=True)
    cmd_migrate(settings, args)
    cmd_load_demo(settings, args)
    cmd_serve(settings, args)


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> None:
    from service.identity import service
    from service.identity.schemas import RoleGrant, UserCreate

    password = args.password or os.environ.get("MR_NEW_PASSWORD") or getpass.getpass("password: ")

    async def run(conn: asyncpg.Connection) -> str:
        organisation = ({"organisation": args.organisation, "organisation_level": args.level,
                         "jurisdiction_code": args.home or args.jurisdiction} if args.organisation else {})
        user = await service.create_user(conn, actor=CLI_ACTOR, data=_build(UserCreate, username=args.username,
                                         display_name=args.display_name or args.username, password=password,
                                         **organisation))
        if args.role:
            await service.grant_role(conn, actor=CLI_ACTOR, data=_build(
                RoleGrant, principal_type="user", principal_id=user.id, role=args.role,
                jurisdiction_code=args.jurisdiction))
        return f"created user {user.username} (id {user.id})" + (f" as {args.role} @ {args.jurisdiction}"
                                                                 if args.role else "")

    print(asyncio.run(_in_transaction(settings, run)))


def cmd_create_token(settings: Settings, args: argparse.Namespace) -> None:
    from service.core.errors import NotFound
    from service.identity import service
    from service.identity.schemas import ClientCreate, RoleGrant, TokenCreate

    _require(settings, "MR_TOKEN_PEPPER")

    async def run(conn: asyncpg.Connection) -> str:
        try:
            client = await service.get_client(conn, name=args.client)
        except NotFound:
            client = await service.create_client(conn, actor=CLI_ACTOR, data=_build(
                ClientCreate, name=args.client, organisation=args.organisation or args.client,
                organisation_level=args.level, jurisdiction_code=args.jurisdiction))
        held = await service.list_roles(conn, principal_type="client", principal_id=client.id)
        if not any(r.role == args.role and r.jurisdiction_code == args.jurisdiction and r.revoked_at is None
                   for r in held):
            await service.grant_role(conn, actor=CLI_ACTOR, data=_build(
                RoleGrant, principal_type="client", principal_id=client.id, role=args.role,
                jurisdiction_code=args.jurisdiction))
        issued = await service.issue_token(conn, actor=CLI_ACTOR, pepper=settings.token_pepper, client_id=client.id,
                                           data=_build(TokenCreate, label=args.label, expires_in_days=args.days))
        return (f"token {issued.id} for client {client.name} ({args.role} @ {args.jurisdiction}); "
                f"shown once, keep it safe:\n{issued.token}")

    print(asyncio.run(_in_transaction(settings, run)))


def cmd_revoke_token(settings: Settings, args: argparse.Namespace) -> None:
    from service.identity import service

    async def run(conn: asyncpg.Connection) -> str:
        token = await service.revoke_token(conn, actor=CLI_ACTOR, token_id=args.id)
        return f"token {token.id} ({token.prefix}…) revoked at {token.revoked_at}"

    print(asyncio.run(_in_transaction(settings, run)))


def cmd_export_openapi(settings: Settings, args: argparse.Namespace) -> None:
    from service.app import create_app
    from service.core.openapi import document

    schema = document(create_app(settings))
    text = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if args.path == "-":
        sys.stdout.write(text)
    else:
        Path(args.path).write_text(text, encoding="utf-8")
        print(f"wrote {args.path}")


def cmd_db_stop(settings: Settings, _args: argparse.Namespace) -> None:
    stopped = stop_embedded(settings.data_dir / "pg")
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


def cmd_audit(settings: Settings, args: argparse.Namespace) -> None:
    from service.audit.cli import AuditCliError, run

    try:
        run(settings, args, _with_conn)
    except AuditCliError as exc:
        raise CliError(str(exc)) from exc


def cmd_witness(_settings: Settings, args: argparse.Namespace) -> None:
    from service.audit.witness import run

    code = run(args)
    if code:
        raise SystemExit(code)


def _api_client(settings: Settings, args: argparse.Namespace) -> Any:
    from service.client import Client

    token = args.token or os.environ.get("MR_API_TOKEN")
    if not token:
        raise CliError("no API token: pass --token or set MR_API_TOKEN")
    return Client(args.url or f"http://{settings.host}:{settings.port}", token=token)


def _api_call(settings: Settings, args: argparse.Namespace, call: Callable[[Any], Any]) -> None:
    import httpx

    from service.client import ProblemError, to_json

    try:
        with _api_client(settings, args) as client:
            print(to_json(call(client)))
    except ProblemError as exc:
        params = "; ".join(f"{p.name}: {p.reason}" for p in exc.problem.invalid_params or [])
        raise CliError(f"{exc}{' (' + params + ')' if params else ''}") from exc
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach the service: {exc}") from exc


def cmd_submit(settings: Settings, args: argparse.Namespace) -> None:
    """Submit an admission request from a JSON file (see docs/admission.md)."""
    import msgspec

    from service.client import load_submission

    try:
        submission = load_submission(args.file)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CliError(f"{args.file}: {exc}") from exc
    _api_call(settings, args, lambda c: c.submit(submission, idempotency_key=args.idempotency_key,
                                                 draft=args.draft))


def cmd_status(settings: Settings, args: argparse.Namespace) -> None:
    _api_call(settings, args, lambda c: c.status(args.id))


def cmd_check(settings: Settings, args: argparse.Namespace) -> None:
    """The enforcement check for one matter at one or many communities (the batch check, 500 a call), or for
    the questions of a JSON file (an array of check bodies, or {"checks": [...]})."""
    import msgspec

    questions: list[Any] = []
    if args.file:
        try:
            loaded = msgspec.json.decode(Path(args.file).read_bytes())
        except (OSError, msgspec.DecodeError) as exc:
            raise CliError(f"{args.file}: {exc}") from exc
        questions = loaded.get("checks", []) if isinstance(loaded, dict) else loaded
        if not isinstance(questions, list):
            raise CliError(f"{args.file}: expected an array of checks or {{\"checks\": [...]}}")
    if args.community:
        matter = {k: v for k, v in (("code", args.code), ("title", args.title),
                                    ("description", args.description)) if v}
        questions += [{"community_code": c, "matter": matter, "role": args.role,
                       **({"department": args.department} if args.department else {})} for c in args.community]
    if not questions:
        raise CliError("nothing to check: give --community (with --code or --title) or a file")
    from service.client import question_of

    try:
        for q in questions:
            question_of(q)
    except (msgspec.ValidationError, TypeError) as exc:
        raise CliError(f"invalid check: {exc}") from exc
    _api_call(settings, args, lambda c: c.check_matters(questions))


def _build(cls: Any, **fields: Any) -> Any:
    """Validate CLI input with the same models the API uses."""
    import msgspec

    try:
        return msgspec.convert(fields, cls)
    except msgspec.ValidationError as exc:
        raise CliError(f"invalid input: {exc}") from exc


def cmd_policy(settings: Settings, args: argparse.Namespace) -> None:
    """`policy check`: load and prove the rules file; `policy evaluate FILE.jsonl`: figures on a corpus."""
    from service.policy.engine import POLICY_FILE, PolicyError, load

    path = Path(args.rules) if args.rules else settings.policies_dir / POLICY_FILE
    try:
        engine = load(path)
    except PolicyError as exc:
        raise CliError(str(exc)) from exc
    if args.policy_command == "check":
        print(f"{path}: {len(engine.rules)} rules, every example holds")
        return
    from service.policy.evaluate import evaluate, read_cases, render

    try:
        cases = read_cases(Path(args.file))
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    report = evaluate(cases, engine)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1) if args.json else render(report))
    if args.strict and not report.meets_targets():
        raise CliError("the corpus figures are under the targets")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="matter-registry", description="Community matter-admission registry")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("serve", "dev"):
        s = sub.add_parser(name, help="serve the API and web UI" if name == "serve" else
                           "embedded database + migrations + demo data + server (what `make run` does)")
        s.add_argument("--workers", type=int, default=1)
        s.add_argument("--host")
        s.add_argument("--port", type=int)
    sub.add_parser("migrate", help="apply pending migrations")
    sub.add_parser("load-demo", help="load the demo county, users and tokens (once)")
    s = sub.add_parser("create-user", help="create a web user, optionally with a role")
    s.add_argument("--username", required=True)
    s.add_argument("--display-name")
    s.add_argument("--password", help="better: MR_NEW_PASSWORD in the environment, or the prompt")
    s.add_argument("--role")
    s.add_argument("--jurisdiction")
    s.add_argument("--organisation", help="a department's or street office's user: the organisation it speaks for "
                                          "(as create-token's --organisation)")
    s.add_argument("--level", default="county", help="with --organisation: its level (county, street, ...)")
    s.add_argument("--home", help="with --organisation: where it sits (default: --jurisdiction)")
    s = sub.add_parser("create-token", help="issue an API token for a client with a role at a jurisdiction")
    s.add_argument("--client", required=True, help="client name (created if new)")
    s.add_argument("--organisation")
    s.add_argument("--level", default="county", help="the organisation's level (county, street, ...)")
    s.add_argument("--role", required=True)
    s.add_argument("--jurisdiction", required=True)
    s.add_argument("--label", default="")
    s.add_argument("--days", type=int, default=365)
    s = sub.add_parser("revoke-token", help="revoke a token by id")
    s.add_argument("--id", type=int, required=True)
    s = sub.add_parser("export-openapi", help="write the OpenAPI schema")
    s.add_argument("path", nargs="?", default="openapi/openapi.json")
    sub.add_parser("db-stop", help="stop the embedded PostgreSQL")
    from service.audit.cli import add_arguments as audit_arguments

    audit_arguments(sub.add_parser("audit", help="verify the audit log (online or offline), print the signing "
                                                 "public key, export the log"))
    s = sub.add_parser("policy", help="the policy engine: prove the rules file, evaluate it on a labelled corpus")
    policy = s.add_subparsers(dest="policy_command", required=True)
    c = policy.add_parser("check", help="load policies/prohibitions.toml and run every rule's examples")
    c.add_argument("--rules", help="another rules file")
    e = policy.add_parser("evaluate", help="precision and recall per rule on a JSONL corpus, every disagreement")
    e.add_argument("file", help="one JSON object a line: title, content, role, expect, rule")
    e.add_argument("--rules", help="another rules file")
    e.add_argument("--json", action="store_true", help="the figures as JSON")
    e.add_argument("--strict", action="store_true", help="exit 1 when the figures are under the targets")

    from service.audit.witness import add_arguments as witness_arguments

    witness_arguments(sub.add_parser("witness", help="an independent witness that cosigns the audit log's "
                                                     "checkpoints (its own key and state file)"))
    for name, help_text in (("submit", "submit an admission request from a JSON file (API client)"),
                            ("status", "show an admission request's status (API client)"),
                            ("check", "the enforcement check at one or many communities, in one call per 500 "
                                      "(API client)")):
        s = sub.add_parser(name, help=help_text)
        if name == "check":
            s.add_argument("file", nargs="?", help="questions as JSON: an array of check bodies or {\"checks\": []}")
            s.add_argument("--community", action="append", default=[], help="a community code (repeat it)")
            s.add_argument("--code", help="the matter's registry code")
            s.add_argument("--title", help="the matter's title (without a code)")
            s.add_argument("--description", help="what the matter asks (without a code)")
            s.add_argument("--role", choices=("assisting", "responsible"), default="assisting")
            s.add_argument("--department", help="the assigning department's API client name (default: the caller)")
        elif name == "submit":
            s.add_argument("file", help="the request as JSON (fields of AdmissionSubmission)")
            s.add_argument("--idempotency-key", help="default: a fresh one; reuse it to retry safely")
            s.add_argument("--draft", action="store_true", help="save as a draft instead of submitting")
        else:
            s.add_argument("id", type=int)
        s.add_argument("--url", help="the service (default http://MR_HOST:MR_PORT)")
        s.add_argument("--token", help="API token (better: MR_API_TOKEN in the environment)")
    return p


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], None]] = {
    "serve": cmd_serve, "dev": cmd_dev, "migrate": cmd_migrate, "load-demo": cmd_load_demo,
    "create-user": cmd_create_user, "create-token": cmd_create_token, "revoke-token": cmd_revoke_token,
    "export-openapi": cmd_export_openapi, "db-stop": cmd_db_stop,
    "audit": cmd_audit, "witness": cmd_witness, "submit": cmd_submit, "status": cmd_status, "check": cmd_check,
    "policy": cmd_policy,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        COMMANDS[args.command](load_settings(), args)
    except CliError as exc:
        print(f"matter-registry {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from service.core.errors import ServiceError

        if isinstance(exc, ServiceError):
            print(f"matter-registry {args.command}: {exc.detail}", file=sys.stderr)
            return 1
        if isinstance(exc, asyncpg.PostgresError | OSError):
            print(f"matter-registry {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
