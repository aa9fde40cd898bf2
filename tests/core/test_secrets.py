"""Outside development the service does not start without its secrets; development generates them."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.app import create_app
from service.audit import keys
from service.core.settings import SettingsError, load_settings
from tests.conftest import PEPPER, SECRET, service_url
from tests.helpers.app import running
from tests.helpers.cli import run_cli

STRONG = "0123456789abcdef0123456789abcdef"


def signing_key_file(path):
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


def test_outside_development_missing_secrets_are_not_generated(tmp_path):
    settings = load_settings({"MR_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://x@localhost/x"})
    assert settings.missing_secrets == ("MR_SECRET_KEY", "MR_TOKEN_PEPPER", "MR_AUDIT_SIGNING_KEY_FILE")
    assert settings.secret_key == b""
    assert settings.token_pepper == b""
    assert list(tmp_path.iterdir()) == []  # nothing quietly written beside the data
    with pytest.raises(SettingsError) as caught:
        settings.require_secrets()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("MR_SECRET_KEY and MR_TOKEN_PEPPER and MR_AUDIT_SIGNING_KEY_FILE not set")


def test_a_short_secret_counts_as_missing_outside_development(tmp_path):
    settings = load_settings({"MR_DATA_DIR": str(tmp_path), "MR_SECRET_KEY": "short", "MR_TOKEN_PEPPER": STRONG,
                              "MR_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "k.pem")})
    assert settings.missing_secrets == ("MR_SECRET_KEY",)


def test_development_generates_the_secrets_once_and_keeps_them(tmp_path):
    env = {"MR_DATA_DIR": str(tmp_path), "MR_DEV": "1"}
    first, again = load_settings(env), load_settings(env)
    assert first.missing_secrets == ()
    assert len(first.secret_key) == 64
    assert first.secret_key == again.secret_key
    assert first.token_pepper == again.token_pepper != first.secret_key
    assert keys.load_signing_key(first).public_key() == keys.load_signing_key(again).public_key()


def test_outside_development_a_development_key_in_the_data_folder_is_not_used(tmp_path):
    keys.load_signing_key(load_settings({"MR_DATA_DIR": str(tmp_path), "MR_DEV": "1"}))  # writes the dev key
    assert (tmp_path / keys.DEV_KEY_FILE).exists()
    production = load_settings({"MR_DATA_DIR": str(tmp_path), "MR_SECRET_KEY": STRONG, "MR_TOKEN_PEPPER": STRONG})
    with pytest.raises(keys.SigningKeyMissing, match="MR_AUDIT_SIGNING_KEY_FILE"):
        keys.load_signing_key(production)


@pytest.mark.parametrize("missing", ["MR_SECRET_KEY", "MR_TOKEN_PEPPER", "MR_AUDIT_SIGNING_KEY_FILE"])
def test_serve_outside_development_refuses_in_one_line_naming_the_missing_secret(tmp_path, missing):
    env = {"MR_SECRET_KEY": STRONG, "MR_TOKEN_PEPPER": STRONG,
           "MR_AUDIT_SIGNING_KEY_FILE": str(signing_key_file(tmp_path / "audit.pem")), "MR_DEV": "0"}
    env[missing] = ""
    # an unreachable database: the refusal comes before any connection
    r = run_cli("serve", database_url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path / "data",
                extra_env=env)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"matter-registry serve: {missing} not set")
    assert not (tmp_path / "data" / "secret_key").exists()


def test_serve_outside_development_refuses_a_signing_key_file_that_is_not_there(tmp_path):
    r = run_cli("serve", database_url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path,
                extra_env={"MR_SECRET_KEY": STRONG, "MR_TOKEN_PEPPER": STRONG,
                           "MR_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "nowhere.pem")})
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"matter-registry serve: MR_AUDIT_SIGNING_KEY_FILE: audit signing key file {tmp_path / 'nowhere.pem'} "
        "does not exist"]


async def test_the_app_outside_development_does_not_start_without_its_secrets(database, tmp_path):
    settings = load_settings({"MR_DATA_DIR": str(tmp_path), "DATABASE_URL": service_url(database),
                              "MR_SECRET_KEY": SECRET, "MR_TOKEN_PEPPER": PEPPER})
    with pytest.raises(SettingsError, match=r"^MR_AUDIT_SIGNING_KEY_FILE not set"):
        async with running(create_app(settings)):
            pass


async def test_the_app_outside_development_starts_with_all_three(database, tmp_path):
    settings = load_settings({"MR_DATA_DIR": str(tmp_path), "DATABASE_URL": service_url(database),
                              "MR_SECRET_KEY": SECRET, "MR_TOKEN_PEPPER": PEPPER,
                              "MR_AUDIT_SIGNING_KEY_FILE": str(signing_key_file(tmp_path / "audit.pem"))})
    async with running(create_app(settings), base_url="https://testserver.local") as c:
        assert (await c.get("/readyz")).status_code == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.pem"]
