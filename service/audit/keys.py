"""The checkpoint signing key (Ed25519) and the signed tree head format.

The private key lives in a file named by MR_AUDIT_SIGNING_KEY_FILE (PKCS#8 PEM, or 32 raw bytes),
or, in development only (MR_DEV=1), in a file generated once in the data directory. Never in the
database. Outside development the service does not start without the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service.audit.canonical import timestamp
from service.core.settings import Settings

ORIGIN_PREFIX = "matter-registry/"
DEV_KEY_FILE = "audit_signing_key.pem"


class SigningKeyMissing(RuntimeError):
    pass


def _load_private(path: Path) -> Ed25519PrivateKey:
    raw = path.read_bytes()
    if len(raw) == 32:
        return Ed25519PrivateKey.from_private_bytes(raw)
    key = serialization.load_pem_private_key(raw, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyMissing(f"{path} is not an Ed25519 private key")
    return key


def load_signing_key(settings: Settings) -> Ed25519PrivateKey:
    if settings.audit_signing_key_file is not None:
        path = settings.audit_signing_key_file
        if not path.exists():
            raise SigningKeyMissing(f"audit signing key file {path} does not exist")
        return _load_private(path)
    if not settings.dev_mode:
        # a development key lying in the data folder is not a production key: never picked up here
        raise SigningKeyMissing("no audit signing key: set MR_AUDIT_SIGNING_KEY_FILE (an Ed25519 PEM file)")
    path = settings.data_dir / DEV_KEY_FILE
    if path.exists():
        return _load_private(path)
    # several workers start at once on a fresh data folder: the first key to be linked into place is
    # everyone's (a key is written whole to a file of its own, then hard-linked: atomic, never half-read)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{DEV_KEY_FILE}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _load_private(path)
        return key
    finally:
        os.unlink(tmp)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """First 8 bytes of SHA-256 of the raw 32-byte public key, hex."""
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def load_public_pem(text: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(text)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def checkpoint_body(log_name: str, tree_size: int, root_hash: bytes, issued_at: dt.datetime) -> str:
    """What is signed: four lines, each ending in a newline."""
    return f"{ORIGIN_PREFIX}{log_name}\n{tree_size}\n{root_hash.hex()}\n{timestamp(issued_at)}\n"


def sign(key: Ed25519PrivateKey, body: str) -> bytes:
    return key.sign(body.encode())


def signature_valid(key: Ed25519PublicKey, body: str, signature: bytes) -> bool:
    try:
        key.verify(signature, body.encode())
    except InvalidSignature:
        return False
    return True


def parse_body(body: str) -> tuple[str, int, bytes, str]:
    """(log name, tree size, root hash, timestamp) from a signed body; ValueError if malformed."""
    lines = body.split("\n")
    if len(lines) != 5 or lines[4] != "" or not lines[0].startswith(ORIGIN_PREFIX):
        raise ValueError("checkpoint body is not four newline-terminated lines")
    root = bytes.fromhex(lines[2])
    if len(root) != 32:
        raise ValueError("checkpoint root is not 32 bytes")
    return lines[0][len(ORIGIN_PREFIX):], int(lines[1]), root, lines[3]
