"""`matter-registry audit ...`: verify the log (online or offline), print the key, export, sequence."""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from service.audit import keys, note, service, verify
from service.audit.sequencer import REGISTRY, Sequencer, sources_present
from service.core.settings import Settings

WithConn = Callable[[Settings, Callable[[asyncpg.Connection], Awaitable[Any]]], Coroutine[Any, Any, Any]]


class AuditCliError(Exception):
    pass


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="audit_command", required=True)
    v = sub.add_parser("verify", help="verify the stored log, or (with --export) an export file offline")
    v.add_argument("--export", type=Path, help="an export file (JSON Lines or CSV) of the whole log, leaf order")
    v.add_argument("--checkpoint", type=Path, help="a checkpoint (JSON) or several (JSON Lines / array)")
    v.add_argument("--public-key", type=Path, help="the Ed25519 public key (PEM) that signs checkpoints")
    v.add_argument("--log", choices=("audit", "registry"), default="audit", help="which stored log (online)")
    v.add_argument("--cosigned", type=Path, action="append", default=[],
                   help="outside memory: a witness-cosigned checkpoint note, or a witness's state file; the log "
                        "must still contain it (repeatable)")
    v.add_argument("--witness", action="append", default=[],
                   help="a witness's verifier key (name+hash+key, type 0x04); default MR_AUDIT_WITNESSES")
    v.add_argument("--quorum", type=int, help="how many witnesses must have cosigned (default: all given)")
    k = sub.add_parser("public-key", help="print the public key that signs checkpoints (PEM)")
    k.add_argument("--output", type=Path)
    e = sub.add_parser("export", help="write the whole log in leaf order, and its checkpoints, for offline checks")
    e.add_argument("--output", type=Path, required=True)
    e.add_argument("--checkpoints", type=Path, help="also write every signed checkpoint (JSON Lines) here")
    e.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    e.add_argument("--tree-size", type=int, help="default: the latest checkpoint's size")
    sub.add_parser("sequence", help="sequence pending entries and sign a checkpoint now")


def _private_key(settings: Settings) -> Any:
    try:
        return keys.load_signing_key(settings)
    except (keys.SigningKeyMissing, ValueError, OSError) as exc:
        raise AuditCliError(str(exc)) from exc


def _public_key(path: Path | None, settings: Settings | None) -> Any:
    if path is None:
        return _private_key(settings).public_key() if settings is not None else None
    try:
        return keys.load_public_pem(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise AuditCliError(f"cannot read the public key {path}: {exc}") from exc


def _print_report(report: verify.Report, what: str, outside: list[Any] | None = None) -> None:
    print(f"{what}: {report.entries} entries, root {report.root.hex()}")
    if report.checkpoints_ok:
        print(f"signed checkpoints matched: {len(report.checkpoints_ok)} (largest size {max(report.checkpoints_ok)})")
    for finding in report.findings:
        print(f"PROBLEM {finding}")
    if report.ok:
        print("OK: the log matches every signed checkpoint" + (" and every cosigned one given" if outside else ""))
        return
    first = report.first_bad_index
    raise AuditCliError(f"verification failed: {report.findings[0]}"
                        + (f" (first bad index {first})" if first is not None else ""))


def _outside(args: argparse.Namespace, settings: Settings, pub: Any) -> list[tuple[int, bytes, str]]:
    """The cosigned checkpoints given with --cosigned, each checked: the log's signature, the quorum."""
    if not args.cosigned:
        return []
    if pub is None:
        raise AuditCliError("--cosigned needs the log's public key (--public-key)")
    try:
        witnesses = [note.parse_verifier_key(w) for w in args.witness] if args.witness else \
            note.parse_witnesses(settings.audit_witnesses)
    except note.NoteError as exc:
        raise AuditCliError(f"witness key: {exc}") from exc
    if not witnesses:
        raise AuditCliError("--cosigned needs the witnesses' keys (--witness, or MR_AUDIT_WITNESSES)")
    quorum = args.quorum if args.quorum is not None else (
        settings.audit_witness_quorum if not args.witness and settings.audit_witness_quorum is not None
        else len(witnesses))
    out: list[tuple[int, bytes, str]] = []
    for path in args.cosigned:
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AuditCliError(f"cannot read {path}: {exc}") from exc
        need, among = quorum, witnesses
        if raw.lstrip().startswith("{"):  # a witness's state file: its newest cosigned checkpoint per log
            try:
                saved = msgspec.json.decode(raw)
                notes = [s["checkpoint"] for origin, s in saved["logs"].items()
                         if origin.rsplit("/", 1)[-1] == args.log]
            except (msgspec.DecodeError, KeyError, TypeError, AttributeError) as exc:
                raise AuditCliError(f"{path}: not a witness state file ({exc})") from exc
            # the memory of one witness: its own cosignature is what counts, by a key given
            need, among = 1, [w for w in witnesses if w.name == saved.get("name")]
            if not among:
                raise AuditCliError(f"{path}: the state of witness {saved.get('name')!r}, whose key is not given")
        else:
            notes = [raw]
        for text in notes:
            origin = text.split("\n", 1)[0]
            log_key = note.Verifier(origin, note.key_id(origin, note.ED25519, note.raw_public(pub)), note.ED25519,
                                    pub)
            try:
                cp, found = note.open_cosigned(text, log_key, among, need)
            except note.NoteError as exc:
                raise AuditCliError(f"{path}: {exc}") from exc
            if origin.rsplit("/", 1)[-1] != args.log:
                raise AuditCliError(f"{path}: checkpoint of {origin}, not of the {args.log} log")
            out.append((cp.size, cp.root, f"the checkpoint {origin} size {cp.size} root "
                                          f"{base64.b64encode(cp.root).decode()} cosigned by "
                                          f"{', '.join(sorted(found))} ({path})"))
    return out


def run(settings: Settings, args: argparse.Namespace, with_conn: WithConn) -> None:
    cmd = args.audit_command
    if cmd == "verify" and args.export is not None:
        if args.checkpoint is None or args.public_key is None:
            raise AuditCliError("offline verification needs --export, --checkpoint and --public-key")
        pub = _public_key(args.public_key, None)
        outside = _outside(args, settings, pub)
        try:
            checkpoints = verify.load_checkpoints(args.checkpoint)
            report = verify.verify_export(args.export, checkpoints, pub, args.log, outside)
        except (OSError, ValueError) as exc:
            raise AuditCliError(str(exc)) from exc
        _print_report(report, str(args.export), outside)
    elif cmd == "verify":
        pub = _public_key(args.public_key, settings)
        outside = _outside(args, settings, pub)

        async def check(conn: asyncpg.Connection) -> verify.Report:
            if args.log == "registry":
                if REGISTRY not in await sources_present(conn):
                    raise AuditCliError("this database has no registry_entry table")
                return await service.verify_table_log(conn, source=REGISTRY, public_key=pub, outside=outside)
            return await service.verify_stored(conn, public_key=pub, outside=outside)

        _print_report(asyncio.run(with_conn(settings, check)), f"stored {args.log} log", outside)
    elif cmd == "public-key":
        pem = keys.public_pem(_private_key(settings).public_key())
        if args.output:
            args.output.write_text(pem, encoding="ascii")
            print(f"wrote {args.output}")
        else:
            sys.stdout.write(pem)
    elif cmd == "export":
        asyncio.run(with_conn(settings, lambda conn: _export(conn, args)))
    elif cmd == "sequence":
        asyncio.run(with_conn(settings, lambda conn: _sequence(settings, conn)))


async def _export(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    sql, params = await service.log_export_query(conn, tree_size=args.tree_size)
    count = 0
    with args.output.open("wb") as fh:
        async for chunk in service.export_conn_stream(conn, sql=sql, args=params, fmt=args.format, log_order=True):
            fh.write(chunk)
            count += chunk.count(b"\n")
    print(f"wrote {args.output} (tree size {params[0]})")
    if args.checkpoints:
        cps = await service.checkpoints(conn, log="audit")
        args.checkpoints.write_bytes(b"".join(msgspec.json.encode(c) + b"\n" for c in cps))
        print(f"wrote {len(cps)} checkpoint(s) to {args.checkpoints}")


class _OneConnection:
    """The sequencer takes a pool; the CLI has one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    def acquire(self) -> Any:
        conn = self.conn

        class _Ctx:
            async def __aenter__(self) -> asyncpg.Connection:
                return conn

            async def __aexit__(self, *_exc: object) -> None:
                return None

        return _Ctx()


async def _sequence(settings: Settings, conn: asyncpg.Connection) -> None:
    sources = await sources_present(conn)
    seq = Sequencer(_OneConnection(conn), _private_key(settings), sources, origin=settings.audit_origin)
    await seq.checkpoint_now()
    for source in sources:
        state = await service.log_state(conn, log=source.name)
        print(f"{source.name}: tree size {state['tree_size']}, root {bytes(state['root_hash']).hex()}")
