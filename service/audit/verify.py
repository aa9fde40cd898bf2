"""Checking a log against signed checkpoints: offline from an export file, or online from the tables.

Both feed entries, in leaf order, to one `LogCheck`: it recomputes every leaf hash from the leaf bytes,
compares it with the hash recorded when the entry was sequenced (which locates an edited row
exactly), notices missing, extra and reordered entries by their leaf index, and compares the root
of every prefix that a checkpoint covers with that checkpoint's signed root.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.audit import keys, merkle, note

BOM = b"\xef\xbb\xbf"


class Checkpoint(msgspec.Struct, kw_only=True):
    """A signed tree head as served by GET /api/v1/audit/checkpoint."""

    log: str
    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    body: str
    signature: str  # base64; C2SP notes: 4-byte key ID || 64-byte Ed25519 signature, as on the note line
    origin: str | None = None  # None: a checkpoint of the older own format (four lines, hex root)
    note: str | None = None  # the signed note (C2SP tlog-checkpoint) with every stored cosignature
    cosigned_by: list[str] = []


@dataclass
class Finding:
    index: int | None
    line: int | None
    problem: str

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"index {self.index}")
        if self.line is not None:
            where.append(f"line {self.line}")
        return f"{', '.join(where)}: {self.problem}" if where else self.problem


@dataclass
class Report:
    entries: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints_ok: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad_index(self) -> int | None:
        indexes = [f.index for f in self.findings if f.index is not None]
        return min(indexes) if indexes else None


class ExportFormatError(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class LogCheck:
    def __init__(self, log_name: str, checkpoints: list[Checkpoint], public_key: Ed25519PublicKey | None,
                 outside: list[tuple[int, bytes, str]] | None = None) -> None:
        """`outside`: checkpoints held outside the database (size, root, how to name it), e.g. the newest
        one the witnesses cosigned: the log must still contain them."""
        self.report = Report()
        self.log_name = log_name
        self.edge = merkle.CompactRange()
        self.due: list[tuple[int, bytes, str]] = []
        for cp in checkpoints:
            problem = check_signed(cp, public_key, log_name)
            if problem:
                self.report.findings.append(Finding(None, None, f"checkpoint of size {cp.tree_size}: {problem}"))
            else:
                self.due.append((cp.tree_size, bytes.fromhex(cp.root_hash), f"the signed checkpoint of size "
                                                                             f"{cp.tree_size}"))
        self.due.extend(outside or [])
        self.due.sort(key=lambda d: d[0])
        self._last_ok = 0
        self._reported_root = False

    def _find(self, index: int | None, line: int | None, problem: str) -> None:
        self.report.findings.append(Finding(index, line, problem))

    def add(self, *, index: int | None, leaf: bytes | None, recorded: bytes | None, line: int | None = None) -> None:
        expected = self.edge.size
        if index != expected:
            if index is None:
                self._find(expected, line, "entry carries no leaf index")
            elif index > expected:
                self._find(expected, line, f"entries {expected}..{index - 1} are missing (removed or truncated); "
                                           f"the next entry says index {index}")
            else:
                self._find(expected, line, f"entry says index {index} where {expected} was due "
                                           "(inserted or reordered)")
        if leaf is None:
            self._find(expected, line, "the event has been removed from the stored log")
            h = recorded or merkle.EMPTY_ROOT
        else:
            h = merkle.leaf_hash(leaf)
            if recorded is not None and recorded != h:
                self._find(expected, line, "the event was changed: its bytes no longer hash to the leaf hash "
                                           "recorded when it was sequenced")
        self.edge.append(h)
        self.report.entries = self.edge.size
        while self.due and self.due[0][0] == self.edge.size:
            size, root, label = self.due.pop(0)
            if self.edge.root() == root:
                self.report.checkpoints_ok.append(size)
                self._last_ok = size
            else:
                self._find(None, None, f"the root of the first {size} entries differs from {label}: the log "
                                       f"was rewritten at an index in {self._last_ok}..{size - 1}")

    def finish(self) -> Report:
        signed_reported = False
        for size, _root, label in self.due:
            if size > self.edge.size:
                if label.startswith("the signed checkpoint"):
                    if signed_reported:
                        continue
                    signed_reported = True
                self._find(self.edge.size, None, f"the log ends after {self.edge.size} entries but {label} "
                                                 f"covers {size}: entries {self.edge.size}..{size - 1} are "
                                                 "missing (truncated)")
        self.report.root = self.edge.root()
        # an edit located by its recorded hash is the most precise statement: list it first
        self.report.findings.sort(key=lambda f: (f.index is None, f.index if f.index is not None else 0))
        return self.report


def check_signed(cp: Checkpoint, public_key: Ed25519PublicKey | None, log_name: str) -> str | None:
    try:
        legacy = len(base64.b64decode(cp.signature)) == 64  # the older own format: a bare signature
    except ValueError:
        return "the signature is not base64"
    if not legacy:
        return _check_note(cp, public_key, log_name)
    try:
        name, size, root, stamp = keys.parse_body(cp.body)
    except ValueError as exc:
        return str(exc)
    if (name, size, root.hex(), stamp) != (cp.log, cp.tree_size, cp.root_hash, cp.timestamp):
        return "the signed body does not match the checkpoint's fields"
    if name != log_name:
        return f"checkpoint is for log {name!r}, not {log_name!r}"
    if public_key is not None:
        if keys.key_id(public_key) != cp.key_id:
            return f"signed with key {cp.key_id}, not the given public key {keys.key_id(public_key)}"
        if not keys.signature_valid(public_key, cp.body, base64.b64decode(cp.signature)):
            return "signature does not verify"
    return None


def _check_note(cp: Checkpoint, public_key: Ed25519PublicKey | None, log_name: str) -> str | None:

    try:
        parsed = note.parse_checkpoint(cp.body)
        raw = base64.b64decode(cp.signature)
    except (note.NoteError, ValueError) as exc:
        return str(exc)
    if (parsed.size, parsed.root.hex()) != (cp.tree_size, cp.root_hash) or cp.origin not in (None, parsed.origin):
        return "the signed body does not match the checkpoint's fields"
    if parsed.origin.rsplit("/", 1)[-1] != log_name:
        return f"checkpoint is for log {parsed.origin!r}, not one named {log_name!r}"
    if len(raw) != 68:
        return "the note signature is not a 4-byte key ID and a 64-byte Ed25519 signature"
    if public_key is not None:
        if keys.key_id(public_key) != cp.key_id or note.key_id(parsed.origin, note.ED25519,
                                                                 note.raw_public(public_key)) != raw[:4]:
            return f"signed with key {cp.key_id}, not the given public key {keys.key_id(public_key)}"
        if not keys.signature_valid(public_key, cp.body, raw[4:]):
            return "signature does not verify"
    return None


def load_checkpoints(path: Path) -> list[Checkpoint]:
    """One checkpoint (JSON) or several (JSON Lines, or a JSON array)."""
    text = path.read_bytes().strip()
    try:
        if text.startswith(b"["):
            return msgspec.json.decode(text, type=list[Checkpoint])
        if b"\n" not in text:
            return [msgspec.json.decode(text, type=Checkpoint)]
        return [msgspec.json.decode(line, type=Checkpoint) for line in text.splitlines() if line.strip()]
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"{path}: not a checkpoint: {exc}") from exc


# ---- the export formats ----

class _Line(msgspec.Struct):
    leaf_index: int | None
    leaf_hash: str | None
    event: msgspec.Raw


def jsonl_prefix(leaf_index: int | None, leaf_hash: bytes | None) -> bytes:
    if leaf_index is not None and leaf_hash is not None:
        return b'{"leaf_index":%d,"leaf_hash":"%s","event":' % (leaf_index, leaf_hash.hex().encode())
    idx = b"null" if leaf_index is None else str(leaf_index).encode()
    h = b"null" if leaf_hash is None else b'"' + leaf_hash.hex().encode() + b'"'
    return b'{"leaf_index":' + idx + b',"leaf_hash":' + h + b',"event":'


def jsonl_line(leaf_index: int | None, leaf_hash: bytes | None, leaf: bytes | None) -> bytes:
    return jsonl_prefix(leaf_index, leaf_hash) + (leaf if leaf is not None else b"null") + b"}\n"


def _parse_jsonl(raw: bytes, line: int) -> tuple[int | None, bytes | None, bytes | None]:
    try:
        parsed = msgspec.json.decode(raw, type=_Line)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ExportFormatError(line, f"not an export line ({exc})") from exc
    recorded = bytes.fromhex(parsed.leaf_hash) if parsed.leaf_hash else None
    prefix = jsonl_prefix(parsed.leaf_index, recorded)
    if not raw.startswith(prefix) or not raw.endswith(b"}"):
        raise ExportFormatError(line, "not in the canonical export layout")
    leaf = raw[len(prefix):-1]
    return parsed.leaf_index, recorded, (None if leaf == b"null" else leaf)


def read_export(path: Path) -> Iterator[tuple[int, int | None, bytes | None, bytes | None]]:
    """(line number, leaf index, recorded leaf hash, leaf bytes) for each entry of an export file."""
    with path.open("rb") as fh:
        head = fh.read(3)
        fh.seek(0)
        if head == BOM:
            yield from _read_csv(fh)
            return
        for n, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                raise ExportFormatError(n, "the file ends in the middle of a line (truncated)")
            stripped = raw.rstrip(b"\r\n")
            if not stripped:
                continue
            yield (n, *_parse_jsonl(stripped, n))


def _read_csv(fh: io.BufferedReader) -> Iterator[tuple[int, int | None, bytes | None, bytes | None]]:
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    if reader.fieldnames is None or "leaf" not in reader.fieldnames or "leaf_index" not in reader.fieldnames:
        raise ExportFormatError(1, "CSV header lacks leaf_index, leaf_hash or leaf")
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise ExportFormatError(line, "row has the wrong number of fields (truncated or corrupted)")
        try:
            idx = int(row["leaf_index"]) if row["leaf_index"] else None
            recorded = bytes.fromhex(row["leaf_hash"]) if row.get("leaf_hash") else None
        except ValueError as exc:
            raise ExportFormatError(line, f"bad leaf_index or leaf_hash ({exc})") from exc
        leaf = row["leaf"].encode() if row["leaf"] else None
        yield line, idx, recorded, leaf


def verify_export(path: Path, checkpoints: list[Checkpoint], public_key: Ed25519PublicKey | None,
                  log_name: str = "audit", outside: list[tuple[int, bytes, str]] | None = None) -> Report:
    check = LogCheck(log_name, checkpoints, public_key, outside)
    try:
        for line, idx, recorded, leaf in read_export(path):
            check.add(index=idx, leaf=leaf, recorded=recorded, line=line)
    except ExportFormatError as exc:
        check.report.findings.append(Finding(check.edge.size, exc.line, exc.reason))
    return check.finish()
