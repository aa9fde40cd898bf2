"""Settings, read from the environment once into a frozen object. Nothing else reads os.environ."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import msgspec

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(RuntimeError):
    pass


# development generates these once into the data folder; elsewhere they must be given
SECRETS = ("MR_SECRET_KEY", "MR_TOKEN_PEPPER", "MR_AUDIT_SIGNING_KEY_FILE")
MIN_SECRET_CHARS = 16


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None
    """None means: start the embedded PostgreSQL in `data_dir`."""
    migration_database_url: str | None = None
    """The owner's URL, for `matter-registry migrate` (None: DATABASE_URL's role migrates)."""
    data_dir: Path
    host: str
    port: int
    secret_key: bytes
    token_pepper: bytes
    log_level: str
    dev_mode: bool
    pool_min: int
    pool_max: int
    max_body_bytes: int
    session_max_age_s: int
    login_max_failures: int
    login_lockout_s: int
    migrations_dir: Path
    policies_dir: Path
    audit_signing_key_file: Path | None
    read_database_url: str | None
    audit_origin: str = "matter-registry.local"
    """the deployment's log identity: checkpoints' origins are `<audit_origin>/audit` and `.../registry`"""
    audit_witnesses: str = ""
    """witness verifier keys (`name+hash+base64(0x04||key)`), separated by commas or spaces"""
    audit_witness_quorum: int | None = None
    """how many of them must cosign a checkpoint (default: all)"""
    trusted_proxies: tuple[str, ...] = ()
    """MR_TRUSTED_PROXIES: comma-separated addresses or CIDR networks of the reverse proxies whose
    X-Forwarded-For is believed (service/core/network.py); empty: the peer is the client"""
    list_cache_entries: int = 4096
    """MR_LIST_CACHE_ENTRIES: public list answers kept per process (service/registry/published.py)"""
    list_cache_mb: int = 128
    """MR_LIST_CACHE_MB: their bytes at most, per process (identity and gzip encodings together)"""
    missing_secrets: tuple[str, ...] = ()
    """Secrets not given outside development (their values above are empty): the service does not start."""

    def require_secrets(self, *names: str) -> None:
        """Raise SettingsError (one line naming the variables) if any of `names` (default: all) is missing."""
        missing = [n for n in self.missing_secrets if not names or n in names]
        if missing:
            raise SettingsError(
                f"{' and '.join(missing)} not set: outside development (MR_DEV=1) the service does not start "
                f"without {'it' if len(missing) == 1 else 'them'} (MR_SECRET_KEY, MR_TOKEN_PEPPER: at least "
                f"{MIN_SECRET_CHARS} characters each; MR_AUDIT_SIGNING_KEY_FILE: an Ed25519 key file; "
                "docs/operations.md)"
            )


def _key(raw: str | None, fallback_file: Path, *, dev: bool) -> bytes:
    """A secret from the environment, or (development only) one generated once and kept beside the data.

    Outside development a missing secret is b"" (load_settings notes it; the service refuses to start).
    """
    if raw:
        return raw.encode()
    if not dev:
        return b""
    if fallback_file.exists():
        return fallback_file.read_bytes().strip()
    fallback_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    fallback_file.write_bytes(value)
    fallback_file.chmod(0o600)
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    e = dict(os.environ) if env is None else env
    data_dir = Path(e.get("MR_DATA_DIR", PROJECT_ROOT / ".data")).resolve()
    signing = e.get("MR_AUDIT_SIGNING_KEY_FILE")
    dev = e.get("MR_DEV", "0") == "1"
    missing: list[str] = []
    if not dev:
        for name in ("MR_SECRET_KEY", "MR_TOKEN_PEPPER"):
            if len(e.get(name) or "") < MIN_SECRET_CHARS:
                missing.append(name)
        if not signing:
            missing.append("MR_AUDIT_SIGNING_KEY_FILE")
    return Settings(
        database_url=e.get("DATABASE_URL") or None,
        migration_database_url=e.get("MIGRATION_DATABASE_URL") or None,
        missing_secrets=tuple(missing),
        read_database_url=e.get("READ_DATABASE_URL") or None,
        data_dir=data_dir,
        host=e.get("MR_HOST", "127.0.0.1"),
        port=int(e.get("MR_PORT", "8000")),
        secret_key=_key(e.get("MR_SECRET_KEY"), data_dir / "secret_key", dev=dev),
        token_pepper=_key(e.get("MR_TOKEN_PEPPER"), data_dir / "token_pepper", dev=dev),
        log_level=e.get("MR_LOG_LEVEL", "INFO").upper(),
        dev_mode=dev,
        pool_min=int(e.get("MR_POOL_MIN", "2")),
        pool_max=int(e.get("MR_POOL_MAX", "10")),
        max_body_bytes=int(e.get("MR_MAX_BODY_BYTES", str(1_000_000))),
        session_max_age_s=int(e.get("MR_SESSION_MAX_AGE", str(8 * 3600))),
        login_max_failures=int(e.get("MR_LOGIN_MAX_FAILURES", "5")),
        login_lockout_s=int(e.get("MR_LOGIN_LOCKOUT_SECONDS", str(15 * 60))),
        migrations_dir=PROJECT_ROOT / "migrations",
        policies_dir=PROJECT_ROOT / "policies",
        audit_signing_key_file=Path(signing) if signing else None,
        trusted_proxies=_networks(e.get("MR_TRUSTED_PROXIES", "")),
        audit_origin=e.get("MR_AUDIT_ORIGIN", "matter-registry.local"),
        audit_witnesses=e.get("MR_AUDIT_WITNESSES", ""),
        audit_witness_quorum=int(e["MR_AUDIT_WITNESS_QUORUM"]) if e.get("MR_AUDIT_WITNESS_QUORUM") else None,
        list_cache_entries=int(e.get("MR_LIST_CACHE_ENTRIES", "4096")),
        list_cache_mb=int(e.get("MR_LIST_CACHE_MB", "128")),
    )


def _networks(raw: str) -> tuple[str, ...]:
    """Checked at start-up: a typo in the list must not silently trust nobody (or everybody)."""
    import ipaddress

    values = tuple(v.strip() for v in raw.split(",") if v.strip())
    for v in values:
        try:
            ipaddress.ip_network(v, strict=False)
        except ValueError as exc:
            raise ValueError(f"MR_TRUSTED_PROXIES: {v!r} is not an address or network") from exc
    return values
