"""The audit log over HTTP: scoped queries and exports, proofs, checkpoints, the public key.

Events name people, so reading them needs `audit_event, read` and is limited to the caller's
jurisdictions. Proofs, checkpoints and the public key are public, as in RFC 6962 logs: they are
hashes and signatures only, and anyone holding an event (an export, a copy shown to them) must be
able to check it against the signed head without an account.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from service.audit import keys, note, service
from service.audit.schemas import (
    AuditEventPage,
    Checkpoint,
    CheckpointList,
    ConsistencyProof,
    CosignatureResult,
    InclusionProof,
    PublicKeyRead,
)
from service.audit.sequencer import start as start_sequencer
from service.core import exports
from service.core.audit import Actor, record
from service.core.auth import identity_of
from service.core.authz import Authorizer, Permission
from service.core.db import DB
from service.core.errors import Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from service.core.lifespan import STARTERS
from service.core.openapi import AUTHED, problems
from service.core.schemas import bounded_instant

if start_sequencer not in STARTERS:
    STARTERS.append(start_sequencer)

ROOT = "00"
TEXT = "text/plain"  # Litestar adds "; charset=utf-8"
READ = Permission("audit_event", "read")
SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]
LogName = Annotated[str, QueryParameter(pattern="^(audit|registry)$", description="audit or registry")]
Order = Annotated[str, QueryParameter(pattern="^(newest|oldest)$", description="newest first (default) or oldest")]


async def provide_filters(
    actor_type: Annotated[str | None, QueryParameter(pattern="^(user|client|anonymous|system)$")] = None,
    actor_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    role: Annotated[str | None, QueryParameter(max_length=64)] = None,
    action: Annotated[str | None, QueryParameter(max_length=200)] = None,
    subject_type: Annotated[str | None, QueryParameter(max_length=100)] = None,
    subject_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
    outcome: Annotated[str | None, QueryParameter(pattern="^(ok|denied|refused|failed)$")] = None,
    since: Annotated[dt.datetime | None, QueryParameter(description="occurred at or after (ISO 8601)")] = None,
    until: Annotated[dt.datetime | None, QueryParameter(description="occurred before (ISO 8601)")] = None,
) -> service.EventFilters:
    if subject_id is not None and subject_type is None:
        raise ValidationFailed.field("subject_id", "subject_id needs subject_type")
    if actor_id is not None and actor_type is None:
        raise ValidationFailed.field("actor_id", "actor_id needs actor_type")
    return service.EventFilters(actor_type=actor_type, actor_id=actor_id, role=role, action=action,
                                subject_type=subject_type, subject_id=subject_id, outcome=outcome,
                                since=bounded_instant("since", since), until=bounded_instant("until", until))


def scope_of(request: Request[Any, Any, Any], jurisdiction: str | None) -> list[str] | None:
    """The jurisdiction paths whose events the caller may read (None: everything, unscoped events too).

    Events with no jurisdiction (sign-in failures, refusals of unknown targets) are visible only to
    holders of `audit_event, read` at the root of the tree.
    """
    authorizer: Authorizer = request.app.state.authorizer
    subject = identity_of(request).subject
    if jurisdiction is not None:
        node = authorizer.tree.get(jurisdiction)
        if node is None:
            raise ValidationFailed.field("jurisdiction", f"unknown jurisdiction {jurisdiction}")
        if not authorizer.allowed(subject, "audit_event", "read", jurisdiction):
            raise Forbidden(f"无权查看该辖区的审计记录 (audit events of {jurisdiction} are outside your jurisdiction)")
        return None if node.code == ROOT else [node.path]
    domains = authorizer.domains_allowing(subject, "audit_event", "read")
    if ROOT in domains:
        return None
    return [n.path for n in (authorizer.tree.get(d) for d in domains) if n is not None]


def _required(name: str, value: int | None) -> int:
    # answered here so the problem names the parameter (a missing one is otherwise reported as "body")
    if value is None:
        raise ValidationFailed.field(name, f"{name} is required")
    return value


Jurisdiction = Annotated[str | None, QueryParameter(pattern="^[0-9]{2,12}$",
                                                    description="a jurisdiction code: its whole subtree")]


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    dependencies = {"filters": Provide(provide_filters)}

    @get("/events", operation_id="ListAuditEvents", summary="Audit events, filtered, newest or oldest first",
         description="Filters combine. Keyset pagination: pass `next_cursor` back as `cursor`.",
         opt={"permission": READ}, responses=problems(*AUTHED), security=SECURITY)
    async def list_events(
        self, request: Request[Any, Any, Any], db: DB, filters: NamedDependency[service.EventFilters],
        jurisdiction: Jurisdiction = None, order: Order = "newest",
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> AuditEventPage:
        return await service.list_events(db, filters=filters, subtrees=scope_of(request, jurisdiction),
                                         newest_first=order == "newest", cursor=cursor, limit=limit)

    @get("/export", operation_id="ExportAuditEvents",
         summary="Stream any event query as JSON Lines or CSV (UTF-8 with BOM); order=log: the whole log",
         description="Each JSON line is `{\"leaf_index\":I,\"leaf_hash\":\"hex\",\"event\":<leaf bytes>}`; the "
                     "CSV carries the same in its leaf_index, leaf_hash and leaf columns. `order=log` exports "
                     "the whole log in leaf order up to `tree_size` (default: the latest checkpoint) for "
                     "offline verification, and needs read access at the root.",
         opt={"permission": READ}, responses=problems(*AUTHED), security=SECURITY,
         media_type="application/x-ndjson")
    async def export(
        self, request: Request[Any, Any, Any], db: DB, filters: NamedDependency[service.EventFilters],
        jurisdiction: Jurisdiction = None,
        format: Annotated[str, QueryParameter(pattern="^(jsonl|csv)$")] = "jsonl",
        order: Annotated[str, QueryParameter(pattern="^(newest|oldest|log)$")] = "newest",
        tree_size: Annotated[int | None, QueryParameter(ge=0)] = None,
    ) -> Stream:
        subtrees = scope_of(request, jurisdiction)
        if order == "log":
            used = [k for k, v in msgspec.structs.asdict(filters).items() if v is not None]
            if used or jurisdiction:
                raise ValidationFailed.field(used[0] if used else "jurisdiction",
                                             "order=log exports the whole log; filters do not apply")
            if subtrees is not None:
                raise Forbidden("导出完整日志需要根级审计权限 (the whole log needs audit read at the root)")
            sql, args = await service.log_export_query(db, tree_size=tree_size)
        else:
            sql, args = service.export_query(filters=filters, subtrees=subtrees, newest_first=order == "newest")
        # the query is bound and planned now, so a value it refuses is a problem, not a cut-off stream
        await service.check_export_query(db, sql=sql, args=args)
        ext, media = ("csv", exports.CSV_MEDIA_TYPE) if format == "csv" else ("jsonl", "application/x-ndjson")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        return exports.ExportStream(
            service.export_stream(request.app.state.pool, sql=sql, args=args, fmt=format, log_order=order == "log"),
            media_type=media, headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{ext}"'},
        )

    @get("/proofs/inclusion", operation_id="GetInclusionProof",
         summary="RFC 6962 audit path of leaf `index` in the tree of `tree_size` leaves (public; hex)",
         opt={"public": True}, responses=problems())
    async def inclusion(self, db: DB, index: Annotated[int | None, QueryParameter(description="required")] = None,
                        tree_size: Annotated[int | None, QueryParameter(description="required")] = None,
                        log: LogName = "audit") -> InclusionProof:
        return await service.inclusion_proof(db, log=log, index=_required("index", index),
                                             tree_size=_required("tree_size", tree_size))

    @get("/proofs/consistency", operation_id="GetConsistencyProof",
         summary="RFC 6962 consistency proof between tree sizes `first` and `second` (public; hex)",
         opt={"public": True}, responses=problems())
    async def consistency(self, db: DB, first: Annotated[int | None, QueryParameter(description="required")] = None,
                          second: Annotated[int | None, QueryParameter(description="required")] = None,
                          log: LogName = "audit") -> ConsistencyProof:
        return await service.consistency_proof(db, log=log, first=_required("first", first),
                                               second=_required("second", second))

    @get("/checkpoint", operation_id="GetCheckpoint", summary="The latest signed tree head (public)",
         opt={"public": True}, responses=problems(404))
    async def checkpoint(self, db: DB, log: LogName = "audit") -> Checkpoint:
        return await service.latest_checkpoint(db, log=log)

    @get("/checkpoints", operation_id="ListCheckpoints",
         summary="Every signed tree head, smallest first (public): lets a verifier locate a rewrite",
         opt={"public": True}, responses=problems())
    async def all_checkpoints(self, db: DB, log: LogName = "audit") -> CheckpointList:
        return CheckpointList(items=await service.checkpoints(db, log=log))

    @get("/public-key", operation_id="GetAuditPublicKey", summary="The Ed25519 key that signs checkpoints (public)",
         opt={"public": True}, responses=problems(404))
    async def public_key(self, request: Request[Any, Any, Any]) -> PublicKeyRead:
        sequencer = getattr(request.app.state, "audit_sequencer", None)
        if sequencer is None:
            raise ServiceUnavailable("the audit sequencer is not running")
        if sequencer.key is None:
            raise NotFound("no audit signing key is configured (MR_AUDIT_SIGNING_KEY_FILE)")
        pub = sequencer.key.public_key()
        return PublicKeyRead(algorithm="Ed25519", key_id=keys.key_id(pub), public_key_pem=keys.public_pem(pub),
                             public_key_hex=keys.raw_public(pub).hex())


    @get("/checkpoint.txt", operation_id="GetCheckpointNote", media_type=TEXT,
         summary="The latest checkpoint as a C2SP signed note (tlog-checkpoint), with its cosignatures (public)",
         description="Origin line, tree size, base64 root hash, a blank line, then `— <key name> "
                     "base64(key ID || signature)` lines: the log's Ed25519 note signature first, then any "
                     "witness cosignatures (C2SP tlog-cosignature). See docs/audit.md.",
         opt={"public": True}, responses=problems(404))
    async def checkpoint_note(self, db: DB, log: LogName = "audit") -> Response[str]:
        return Response(await service.checkpoint_note(db, log=log), media_type=TEXT,
                        headers={"Cache-Control": "no-cache"})

    @get("/cosigned-checkpoint.txt", operation_id="GetCosignedCheckpointNote", media_type=TEXT,
         summary="The newest checkpoint cosigned by the required number of witnesses, as a C2SP note (public)",
         opt={"public": True}, responses=problems(404))
    async def cosigned_note(self, request: Request[Any, Any, Any], db: DB, log: LogName = "audit") -> Response[str]:
        return Response(await service.checkpoint_note(db, log=log, cosigned=True, settings=request.app.state.settings),
                        media_type=TEXT, headers={"Cache-Control": "no-cache"})

    @get("/verifier-key.txt", operation_id="GetCheckpointVerifierKey", media_type=TEXT,
         summary="The log's note verifier key, `<name>+<key ID hex>+base64(0x01 || Ed25519 key)` (public)",
         description="What golang.org/x/mod/sumdb/note.NewVerifier takes. The key name is the log's origin.",
         opt={"public": True}, responses=problems(404))
    async def verifier_key(self, request: Request[Any, Any, Any], log: LogName = "audit") -> Response[str]:
        sequencer = getattr(request.app.state, "audit_sequencer", None)
        if sequencer is None:
            raise ServiceUnavailable("the audit sequencer is not running")
        if sequencer.key is None:
            raise NotFound("no audit signing key is configured (MR_AUDIT_SIGNING_KEY_FILE)")
        vkey = note.verifier_key(f"{sequencer.origin}/{log}", sequencer.key.public_key())
        return Response(vkey + "\n", media_type=TEXT)

    @get("/tlog/{log:str}/checkpoint", operation_id="GetTlogCheckpoint", media_type=TEXT,
         summary="tlog-tiles: the latest checkpoint note of `audit` or `registry` (public)",
         opt={"public": True}, responses=problems(404))
    async def tlog_checkpoint(self, db: DB, log: FromPath[str]) -> Response[str]:
        return Response(await service.checkpoint_note(db, log=log), media_type=TEXT,
                        headers={"Cache-Control": "no-cache"})

    @get("/tlog/{log:str}/tile/{path:path}", operation_id="GetTlogTile", media_type="application/octet-stream",
         summary="tlog-tiles: hash tile `<L>/<N>[.p/<W>]` of the Merkle tree (public, immutable)",
         description="Level L tile N holds the hashes of the complete subtrees at tree level 8L with indexes "
                     "256N .. 256N+255 (or the first W). Entry bundles (`tile/entries/...`) are not served: "
                     "audit events name people and are read through the scoped export.",
         opt={"public": True}, responses=problems(404))
    async def tlog_tile(self, db: DB, log: FromPath[str], path: FromPath[Path]) -> Response[bytes]:
        data, _full = await service.tile(db, log=log, path=str(path))
        return Response(data, media_type="application/octet-stream",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    @post("/cosignatures", operation_id="AddCheckpointCosignatures", status_code=200,
          summary="A witness hands in its cosignature: the checkpoint note with its cosignature line(s) (public)",
          description="No account: a cosignature is accepted only if it verifies against a witness key of "
                      "MR_AUDIT_WITNESSES (C2SP tlog-cosignature, Ed25519). Body: the checkpoint note as served "
                      "by checkpoint.txt with the witness's line(s) added, `text/plain`.",
          opt={"public": True}, responses=problems(403, 404))
    async def add_cosignatures(self, request: Request[Any, Any, Any], db: DB,
                               log: LogName = "audit") -> CosignatureResult:
        raw = await request.body()
        try:
            message = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed.field("body", "the note is not UTF-8") from exc
        sequencer = getattr(request.app.state, "audit_sequencer", None)
        prefix = sequencer.origin if sequencer is not None else request.app.state.settings.audit_origin
        result = await service.add_cosignatures(db, log=log, message=message, origin_prefix=prefix,
                                                settings=request.app.state.settings)
        await record(db, actor=Actor.from_connection(request), action="audit.cosignature.add",
                     subject_type="merkle_checkpoint", subject_id=f"{log}/{result.tree_size}",
                     detail={"accepted": result.accepted, "cosigned": result.cosigned})
        return result


ROUTES = [AuditController]
