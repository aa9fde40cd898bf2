"""C2SP signed notes, checkpoints and cosignatures, byte for byte (no database, no HTTP).

- signed-note (c2sp.org/signed-note): a text ending in "\\n", a blank line, then one line per
  signature: U+2014 EM DASH, space, key name, space, base64(4-byte key ID || signature), "\\n".
  Key ID = first 4 bytes of SHA-256(key name || 0x0A || type byte || public key); type 0x01 is an
  Ed25519 note signature over the text. A verifier key is `name+<key ID, 8 hex>+base64(type || key)`.
- tlog-checkpoint (c2sp.org/tlog-checkpoint): the text is three lines, origin, tree size (decimal,
  no leading zeroes) and the RFC 6962 root hash in standard base64.
- tlog-cosignature (c2sp.org/tlog-cosignature), Ed25519 (type 0x04): the signature bytes are a big-
  endian u64 POSIX timestamp followed by an Ed25519 signature over
  "cosignature/v1\\ntime <timestamp>\\n" || the checkpoint text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
DASH = "\u2014"
MAX_SIGNATURES = 100


class NoteError(ValueError):
    pass


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def valid_name(name: str) -> bool:
    """Non-empty, no Unicode space, no '+' (signed-note)."""
    return bool(name) and "+" not in name and not any(c.isspace() or unicodedata.category(c) == "Zs"
                                                      for c in name)


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey | bytes, sig_type: int = ED25519) -> str:
    raw = public if isinstance(public, bytes) else raw_public(public)
    if not valid_name(name):
        raise NoteError(f"invalid key name {name!r}")
    return f"{name}+{key_id(name, sig_type, raw).hex()}+{base64.b64encode(bytes([sig_type]) + raw).decode()}"


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    sig_type: int
    public: Ed25519PublicKey

    @property
    def vkey(self) -> str:
        return verifier_key(self.name, raw_public(self.public), self.sig_type)


def parse_verifier_key(vkey: str) -> Verifier:
    parts = vkey.strip().split("+", 2)  # the base64 may contain "+"
    if len(parts) != 3 or not valid_name(parts[0]) or len(parts[1]) != 8:
        raise NoteError(f"not a verifier key (name+hash+key): {vkey!r}")
    name, hash_hex, key64 = parts
    try:
        kid = bytes.fromhex(hash_hex)
        material = base64.b64decode(key64, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError(f"not a verifier key: {exc}") from exc
    if len(material) != 33 or material[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("verifier key is not an Ed25519 (0x01) or Ed25519 cosignature (0x04) key")
    if key_id(name, material[0], material[1:]) != kid:
        raise NoteError("verifier key hash does not match its name and key")
    return Verifier(name, kid, material[0], Ed25519PublicKey.from_public_bytes(material[1:]))


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes  # what follows the key ID

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


def signature_line(name: str, kid: bytes, signature: bytes) -> str:
    return Signature(name, kid, signature).line()


def split_note(msg: str) -> tuple[str, list[Signature]]:
    """(text, signatures) of a signed note; NoteError if it is not one."""
    for ch in msg:
        if ord(ch) < 0x20 and ch != "\n":
            raise NoteError("a note must not contain control characters other than newline")
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("a note ends in a blank line followed by signature lines")
    text, sigs = msg[:split + 1], msg[split + 2:]
    if not sigs or not sigs.endswith("\n"):
        raise NoteError("a note has at least one signature line, each ending in a newline")
    out: list[Signature] = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(DASH + " "):
            raise NoteError(f"not a signature line: {line[:40]!r}")
        name, _, b64 = line[2:].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError("a signature is not base64") from exc
        if not valid_name(name) or len(raw) < 5:
            raise NoteError(f"malformed signature line for {name!r}")
        out.append(Signature(name, raw[:4], raw[4:]))
        if len(out) > MAX_SIGNATURES:
            raise NoteError("too many signatures")
    return text, out


def sign_text(key: Ed25519PrivateKey, name: str, text: str) -> Signature:
    """An Ed25519 (0x01) note signature of `text` by `key` under `name`."""
    return Signature(name, key_id(name, ED25519, raw_public(key.public_key())), key.sign(text.encode()))


def _verifies(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def note_signature_valid(v: Verifier, text: str, sig: Signature) -> bool:
    return (v.sig_type == ED25519 and sig.name == v.name and sig.key_id == v.key_id and len(sig.signature) == 64
            and _verifies(v.public, sig.signature, text.encode()))


# ---- checkpoints ----

@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    @property
    def text(self) -> str:
        return checkpoint_text(self.origin, self.size, self.root)


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint is at least three non-empty newline-terminated lines")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not size_s.isascii() or not size_s.isdigit() or str(int(size_s)) != size_s:
        raise NoteError("the tree size is not a decimal without leading zeroes")
    try:
        root = base64.b64decode(root_s, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("the root hash is not base64") from exc
    if len(root) != 32:
        raise NoteError("the root hash is not 32 bytes")
    return Checkpoint(origin, int(size_s), root)


def open_checkpoint(msg: str, log_key: Verifier) -> tuple[Checkpoint, list[Signature]]:
    """Verify the log's signature on a checkpoint note; return it and every signature line."""
    text, sigs = split_note(msg)
    known = [s for s in sigs if s.name == log_key.name and s.key_id == log_key.key_id]
    if not known:
        raise NoteError(f"the checkpoint carries no signature by {log_key.name}+{log_key.key_id.hex()}")
    if not all(note_signature_valid(log_key, text, s) for s in known):
        raise NoteError(f"the signature by {log_key.name} does not verify")
    cp = parse_checkpoint(text)
    if cp.origin != log_key.name:
        raise NoteError(f"the checkpoint's origin {cp.origin!r} is not the key's name {log_key.name!r}")
    return cp, sigs


# ---- cosignatures ----

def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def cosign(key: Ed25519PrivateKey, name: str, text: str, timestamp: int) -> Signature:
    kid = key_id(name, COSIGNATURE_V1, raw_public(key.public_key()))
    return Signature(name, kid, struct.pack(">Q", timestamp) + key.sign(cosigned_message(text, timestamp)))


def cosignature_time(v: Verifier, text: str, sig: Signature) -> int | None:
    """The cosignature's timestamp if `sig` is a valid cosignature of `text` by witness `v`, else None."""
    if v.sig_type != COSIGNATURE_V1 or sig.name != v.name or sig.key_id != v.key_id or len(sig.signature) != 72:
        return None
    (ts,) = struct.unpack(">Q", sig.signature[:8])
    if ts >= 1 << 63:
        return None
    return ts if _verifies(v.public, sig.signature[8:], cosigned_message(text, ts)) else None


def parse_witnesses(spec: str) -> list[Verifier]:
    """Witness verifier keys separated by commas, spaces or newlines (each of type 0x04)."""
    out = [parse_verifier_key(part) for part in spec.replace(",", " ").split()]
    for v in out:
        if v.sig_type != COSIGNATURE_V1:
            raise NoteError(f"witness key {v.name} is not a cosignature (0x04) key")
    return out


def cosigners(text: str, sigs: list[Signature], witnesses: list[Verifier]) -> dict[str, int]:
    """The configured witnesses with a valid cosignature of `text` among `sigs`: name -> timestamp."""
    out: dict[str, int] = {}
    for w in witnesses:
        for s in sigs:
            ts = cosignature_time(w, text, s)
            if ts is not None:
                out[w.name] = ts
                break
    return out


def open_cosigned(msg: str, log_key: Verifier, witnesses: list[Verifier],
                  quorum: int) -> tuple[Checkpoint, dict[str, int]]:
    """A checkpoint signed by the log and cosigned by at least `quorum` of `witnesses`; NoteError if not."""
    cp, sigs = open_checkpoint(msg, log_key)
    text = split_note(msg)[0]
    found = cosigners(text, sigs, witnesses)
    if len(found) < quorum:
        raise NoteError(f"checkpoint {cp.origin} size {cp.size} is cosigned by {len(found)} of the required "
                        f"{quorum} witnesses ({', '.join(found) or 'none'})")
    return cp, found
