"""Models of the audit area."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.audit.verify import Checkpoint
from service.core.schemas import Output, Page

__all__ = ["AuditEventPage", "AuditEventRead", "Checkpoint", "CheckpointList", "ConsistencyProof",
           "CosignatureResult", "InclusionProof", "PublicKeyRead"]


class AuditEventRead(Output):
    id: int
    occurred_at: dt.datetime
    actor_type: str
    actor_id: str | None
    actor_name: str | None
    role: str | None
    request_id: str | None
    client_addr: str | None
    action: str
    subject_type: str
    subject_id: str | None
    jurisdiction_code: str | None
    jurisdiction_path: str | None
    outcome: str
    status_code: int | None
    digest: str | None
    detail: dict[str, Any]
    # null until the sequencer has appended the event to the Merkle tree (normally within a second)
    leaf_index: int | None
    leaf_hash: str | None


class AuditEventPage(Page):
    items: list[AuditEventRead]


class InclusionProof(Output):
    log: str
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    audit_path: list[str]
    encoding: str = "hex"


class RecordProof(Output):
    """What a holder of a receipt keeps to verify it offline, years later: the event's leaf bytes, their
    inclusion proof and the checkpoint (a C2SP signed note, with the witnesses' cosignatures when there
    are) whose root the proof reaches. Verify: SHA-256(0x00 || leaf) is `leaf_hash`; the RFC 6962 path
    from it at `leaf_index` gives the checkpoint's root; the note's signatures check with the log's and
    the witnesses' keys (docs/audit.md)."""

    subject: str
    log: str
    leaf_index: int
    leaf: str
    """the event's canonical JSON (docs/audit-log.md), UTF-8"""
    leaf_hash: str
    tree_size: int
    root_hash: str
    audit_path: list[str]
    checkpoint: str
    cosigned: bool
    encoding: str = "hex"


class ConsistencyProof(Output):
    log: str
    first: int
    second: int
    first_root: str
    second_root: str
    consistency_path: list[str]
    encoding: str = "hex"


class CheckpointList(Output):
    items: list[Checkpoint]


class PublicKeyRead(Output):
    algorithm: str
    key_id: str
    public_key_pem: str
    public_key_hex: str


class CosignatureResult(Output):
    log: str
    tree_size: int
    accepted: list[str]
    """the witnesses whose cosignature on this note verified"""
    cosigned_by: list[str]
    """every configured witness that has cosigned this checkpoint so far"""
    quorum: int
    cosigned: bool
    """whether the checkpoint now has the required number of cosignatures"""
