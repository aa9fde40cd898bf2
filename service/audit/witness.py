"""`matter-registry witness`: an independent cosigner of the audit log's checkpoints (C2SP tlog-cosignature).

Meant to be run by another body (the county's discipline inspection office, the city's social work
department) on its own machine, with its own Ed25519 key and state file; it needs no database and no
account, only HTTP access to the service's public audit endpoints. Each round it:

1. fetches the latest checkpoint note (GET /api/v1/audit/checkpoint.txt) and checks the log's signature
   with the log's verifier key it was given;
2. under a lock on its state file, compares it with the last checkpoint it cosigned for that origin:
   smaller, or the same size with another root, is refused; larger needs the consistency proof
   (GET /api/v1/audit/proofs/consistency) from its size to the new one, verified here;
3. cosigns (`cosignature/v1\\ntime <t>\\n` + checkpoint text, Ed25519, key ID type 0x04), writes the new
   state atomically (temporary file, fsync, rename, fsync of the folder) and only then
4. hands the cosigned note to the service (POST /api/v1/audit/cosignatures), polling: the witness
   calls out, nothing calls in.

A refusal is printed loudly, leaves the state untouched, and keeps the offending note beside the state
file as evidence. The state file is the outside memory `matter-registry audit verify --cosigned` uses.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import fcntl
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.audit import merkle, note

logger = logging.getLogger("matter_registry.witness")
API = "/api/v1/audit"


class WitnessRefusal(Exception):
    """The log showed a checkpoint this witness must not cosign."""


class WitnessError(Exception):
    """The round could not be completed (network, bad answer); nothing was cosigned."""


class LogState(msgspec.Struct):
    size: int
    root: str  # base64
    checkpoint: str  # the note as cosigned, with this witness's line
    cosigned_at: int


class State(msgspec.Struct):
    name: str
    logs: dict[str, LogState] = {}


# ---- key and state files ----

def generate_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    raw = path.read_bytes()
    if len(raw) == 32:
        return Ed25519PrivateKey.from_private_bytes(raw)
    key = serialization.load_pem_private_key(raw, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise WitnessError(f"{path} is not an Ed25519 private key")
    return key


def witness_vkey(name: str, key: Ed25519PrivateKey) -> str:
    return note.verifier_key(name, key.public_key(), note.COSIGNATURE_V1)


def read_state(path: Path, name: str) -> State:
    if not path.exists():
        return State(name=name)
    state = msgspec.json.decode(path.read_bytes(), type=State)
    if state.name != name:
        raise WitnessError(f"{path} is the state of witness {state.name!r}, not {name!r}")
    return state


def write_atomically(path: Path, data: bytes) -> None:
    """The whole new file or the old one, never half of either, even across a power cut."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Checking against the state and storing the new one are one step (tlog-witness's race)."""
    with open(path.with_name(path.name + ".lock"), "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _keep_evidence(state_path: Path, checkpoint: str, reason: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = state_path.with_name(f"{state_path.name}.refused-{stamp}.txt")
    write_atomically(path, f"{reason}\n\n{checkpoint}".encode())
    return path


# ---- one round ----

@dataclass
class Round:
    origin: str
    old_size: int
    size: int
    cosigned: bool  # a new cosignature was made (False: nothing new since the last one)
    submitted: dict[str, Any] | None  # the service's answer to the cosignature


async def _get(http: Any, url: str, **params: Any) -> Any:
    try:
        r = await http.get(url, params=params)
    except Exception as exc:  # httpx's transport errors have no common base worth importing here
        raise WitnessError(f"GET {url}: {exc}") from exc
    return r


async def witness_round(http: Any, *, name: str, key: Ed25519PrivateKey, log_key: note.Verifier, state_path: Path,
                        log: str = "audit", submit: bool = True) -> Round:
    """One fetch-verify-cosign-store-submit round; WitnessRefusal if the log is not consistent."""
    r = await _get(http, f"{API}/checkpoint.txt", log=log)
    if r.status_code != 200:
        raise WitnessError(f"the log answered {r.status_code} for its checkpoint: {r.text[:200]}")
    text = r.text
    try:
        cp, _sigs = note.open_checkpoint(text, log_key)
    except note.NoteError as exc:
        raise WitnessRefusal(f"the checkpoint does not open with the log's key: {exc}") from exc
    body = cp.text
    with locked(state_path):
        state = read_state(state_path, name)
        last = state.logs.get(cp.origin)
        old_size = last.size if last else 0
        old_root = base64.b64decode(last.root) if last else merkle.EMPTY_ROOT
        problem: str | None = None
        if cp.size < old_size:
            problem = (f"the log's checkpoint has {cp.size} entries but I cosigned {old_size} "
                       f"(root {last.root if last else ''}): entries {cp.size}..{old_size - 1} are gone")
        elif cp.size == old_size:
            if cp.root != old_root:
                problem = (f"the log's checkpoint of size {cp.size} has root {base64.b64encode(cp.root).decode()} "
                           f"but I cosigned root {last.root if last else ''} for that size: a fork")
            else:
                return Round(cp.origin, old_size, cp.size, False, None)
        elif old_size > 0:
            p = await _get(http, f"{API}/proofs/consistency", first=old_size, second=cp.size, log=log)
            if p.status_code != 200:
                problem = f"the log gives no consistency proof from {old_size} to {cp.size}: {p.status_code}"
            else:
                proof = [bytes.fromhex(h) for h in p.json()["consistency_path"]]
                if not merkle.verify_consistency(old_size, cp.size, old_root, cp.root, proof):
                    problem = (f"the checkpoint of size {cp.size} is not consistent with the one of size "
                               f"{old_size} I cosigned: the log was rewritten (a fork)")
        if problem is not None:
            evidence = _keep_evidence(state_path, text, problem)
            logger.error("REFUSED %s: %s (evidence kept in %s)", cp.origin, problem, evidence)
            raise WitnessRefusal(f"{cp.origin}: {problem} (evidence: {evidence})")
        now = int(time.time())
        line = note.cosign(key, name, body, now).line()
        cosigned_note = body + "\n" + "".join(s.line() for s in note.split_note(text)[1]
                                              if s.name == log_key.name) + line
        state.logs[cp.origin] = LogState(size=cp.size, root=base64.b64encode(cp.root).decode(),
                                         checkpoint=cosigned_note, cosigned_at=now)
        write_atomically(state_path, msgspec.json.encode(state))
    answer = None
    if submit:
        s = await http.post(f"{API}/cosignatures", params={"log": log}, content=cosigned_note.encode(),
                            headers={"Content-Type": "text/plain; charset=utf-8"})
        if s.status_code != 200:
            raise WitnessError(f"the log did not take the cosignature ({s.status_code}): {s.text[:300]}")
        answer = s.json()
    return Round(cp.origin, old_size, cp.size, True, answer)


# ---- the command ----

def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="witness_command", required=True)
    k = sub.add_parser("keygen", help="make the witness's Ed25519 key and print its verifier key")
    k.add_argument("--name", required=True, help="the witness's key name, e.g. jiwei.example-county.gov.cn/witness")
    k.add_argument("--key-file", type=Path, required=True)
    r = sub.add_parser("run", help="fetch, verify, cosign, store, submit; every --interval seconds")
    r.add_argument("--name", required=True)
    r.add_argument("--key-file", type=Path, required=True)
    r.add_argument("--state", type=Path, required=True, help="the witness's state file (JSON), its memory")
    r.add_argument("--log-url", required=True, help="the service, e.g. https://registry.example")
    r.add_argument("--log-key", required=True,
                   help="the log's verifier key (name+hash+key; GET /api/v1/audit/verifier-key.txt)")
    r.add_argument("--log", choices=("audit", "registry"), default="audit")
    r.add_argument("--interval", type=float, default=5.0)
    r.add_argument("--once", action="store_true", help="one round, then exit (0 cosigned or nothing new, "
                                                       "2 refused, 1 error)")


def run(args: argparse.Namespace) -> int:
    if args.witness_command == "keygen":
        if not note.valid_name(args.name):
            print(f"invalid witness name {args.name!r}: no spaces, no '+'", file=sys.stderr)
            return 1
        key = generate_key(args.key_file)
        print(witness_vkey(args.name, key))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    key = load_key(args.key_file)
    log_key = note.parse_verifier_key(args.log_key)
    return asyncio.run(_loop(args, key, log_key))


async def _loop(args: argparse.Namespace, key: Ed25519PrivateKey, log_key: note.Verifier) -> int:
    import httpx

    async with httpx.AsyncClient(base_url=args.log_url, timeout=30) as http:
        while True:
            try:
                done = await witness_round(http, name=args.name, key=key, log_key=log_key, state_path=args.state,
                                           log=args.log)
                if done.cosigned:
                    logger.info("cosigned %s size %d (from %d)%s", done.origin, done.size, done.old_size,
                             "; quorum reached" if done.submitted and done.submitted.get("cosigned") else "")
            except WitnessRefusal as exc:
                print(f"REFUSED: {exc}", file=sys.stderr)
                return 2
            except WitnessError as exc:
                logger.warning("witness round failed: %s", exc)
                if args.once:
                    return 1
            if args.once:
                return 0
            await asyncio.sleep(args.interval)
