"""The canonical leaf bytes of an audit event: what the Merkle tree hashes and the export carries.

Compact JSON (no whitespace), UTF-8, object keys sorted by code point at every depth, every column
of `audit_event` present (null when empty), `occurred_at` in UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ
(always six fraction digits), integers as integers, `detail` as the object stored. See docs/audit-log.md
"The audit log" for the byte-for-byte description.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import msgspec

FIELDS = (
    "action", "actor_id", "actor_name", "actor_type", "client_addr", "detail", "digest", "id",
    "jurisdiction_code", "jurisdiction_path", "occurred_at", "outcome", "request_id", "role", "status_code",
    "subject_id", "subject_type",
)


def timestamp(value: dt.datetime) -> str:
    text = value.isoformat(timespec="microseconds")
    if text.endswith("+00:00"):  # what PostgreSQL hands back (the sessions run in UTC)
        return text[:-6] + "Z"
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def event_object(row: Mapping[str, Any]) -> dict[str, Any]:
    obj = {name: row[name] for name in FIELDS}
    obj["occurred_at"] = timestamp(row["occurred_at"])
    return obj


def event_leaf(row: Mapping[str, Any]) -> bytes:
    return msgspec.json.encode(event_object(row), order="sorted")
