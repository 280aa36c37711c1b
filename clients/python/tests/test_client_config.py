"""The configuration file: tokens from the environment or from a file only its owner can read."""

from __future__ import annotations

import os

import pytest

from smartoa_client.cli import main, write_token_file
from smartoa_client.config import ConfigError, load


def write_config(tmp_path, token_line: str) -> str:
    path = tmp_path / "client.toml"
    path.write_text(
        f"""base_url = "http://127.0.0.1:9"
store = "store.sqlite3"
[[contracts]]
id = "BOA00001"
{token_line}
"""
    )
    return str(path)


def test_a_token_from_the_environment(tmp_path, monkeypatch):
    config = load(write_config(tmp_path, 'token_env = "TOKEN_BOA00001"'))
    assert config.store == tmp_path / "store.sqlite3"
    with pytest.raises(ConfigError, match="the environment variable TOKEN_BOA00001 is not set"):
        config.contracts[0].token()
    monkeypatch.setenv("TOKEN_BOA00001", "abc")
    assert config.contracts[0].token() == "abc"


def test_a_token_file_readable_by_others_is_refused(tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("secret\n")
    config_path = write_config(tmp_path, f'token_file = "{token}"')
    config = load(config_path)
    for mode in (0o644, 0o640, 0o660, 0o602):
        os.chmod(token, mode)
        with pytest.raises(ConfigError) as caught:
            config.contracts[0].token()
        assert f"has mode {mode:04o}; it must be readable by its owner only (chmod 600 {token})" in str(caught.value)
    os.chmod(token, 0o600)
    assert config.contracts[0].token() == "secret"

    os.chmod(token, 0o644)
    assert main(["--config", config_path, "fetch"]) == 1
    assert "has mode 0644" in capsys.readouterr().err


def test_the_renewed_token_file_is_written_0600(tmp_path):
    token = tmp_path / "token"
    write_token_file(token, "new-token")
    assert token.read_text() == "new-token\n" and (token.stat().st_mode & 0o777) == 0o600


def test_configuration_mistakes_are_named(tmp_path):
    with pytest.raises(ConfigError, match="needs exactly one of token_env or token_file"):
        load(write_config(tmp_path, ""))
    with pytest.raises(ConfigError, match="no configuration file at"):
        load(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text('base_url = "http://x"\nfrobnicate = 1\n[[contracts]]\nid="A"\ntoken_env="T"\n')
    with pytest.raises(ConfigError, match="unknown setting\\(s\\) frobnicate"):
        load(tmp_path / "bad.toml")
