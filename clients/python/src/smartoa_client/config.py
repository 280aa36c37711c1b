"""The configuration file (TOML): the server, the fleet's contracts and where each token comes from.

    base_url = "https://smartoa.example.fr"
    store = "~/.local/share/smartoa/client.sqlite3"
    command = "/usr/local/bin/apply-consigne"        # optional: run per change, the document on stdin

    [[contracts]]
    id = "BOA00001"
    token_env = "SMARTOA_TOKEN_BOA00001"             # the token in an environment variable…
    [[contracts]]
    id = "BOA00002"
    token_file = "/etc/smartoa/BOA00002.token"       # …or in a file only its owner can read (chmod 600)

A token file readable or writable by the group or others is refused.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("~/.config/smartoa/client.toml")
DEFAULT_STORE = Path("~/.local/share/smartoa/client.sqlite3")


class ConfigError(Exception):
    """A configuration that cannot be used; the message says what to fix."""


@dataclass
class Thresholds:
    """When ``status`` warns (1) or is critical (2)."""

    hlar_warning_minutes: float = 120
    hlar_critical_minutes: float = 30
    token_warning_days: float = 14
    token_critical_days: float = 3
    silence_warning_minutes: float = 15
    silence_critical_minutes: float = 60


@dataclass
class ContractConfig:
    id: str
    token_env: str | None = None
    token_file: Path | None = None
    command: str | None = None

    def token(self) -> str:
        """The contract's token, read now (a renewed file is picked up); ConfigError when it cannot be read."""
        if self.token_env:
            value = os.environ.get(self.token_env, "").strip()
            if not value:
                raise ConfigError(f"contract {self.id}: the environment variable {self.token_env} is not set")
            return value
        if self.token_file is None:
            raise ConfigError(f"contract {self.id}: no token_env or token_file")
        check_token_file(self.token_file, self.id)
        value = self.token_file.read_text().strip()
        if not value:
            raise ConfigError(f"contract {self.id}: the token file {self.token_file} is empty")
        return value


def check_token_file(path: Path, contract: str) -> None:
    """Refuse a token file that the group or others can read or write (it must be mode 0600, or 0400)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"contract {contract}: the token file {path} does not exist") from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"contract {contract}: the token file {path} is not a regular file")
    if mode & 0o077:
        raise ConfigError(
            f"contract {contract}: the token file {path} has mode {stat.S_IMODE(mode):04o}; it must be readable "
            f"by its owner only (chmod 600 {path})"
        )


@dataclass
class Config:
    base_url: str
    contracts: list[ContractConfig]
    store: Path = field(default_factory=lambda: DEFAULT_STORE.expanduser())
    command: str | None = None
    command_timeout: float = 300
    ack: bool = False
    poll_interval: float = 30
    reread_interval: float = 600
    reread_days_before: int = 1
    reread_days_after: int = 2
    reset_days_after: int = 31
    stream: bool = True
    stream_retry_interval: float = 300
    stream_failures: int = 3
    idle_timeout: float = 90
    timeout: float = 20
    retries: int = 6
    thresholds: Thresholds = field(default_factory=Thresholds)
    path: Path | None = None

    def contract(self, contract_id: str) -> ContractConfig:
        for contract in self.contracts:
            if contract.id == contract_id:
                return contract
        raise ConfigError(f"contract {contract_id} is not in the configuration ({self.path})")

    def command_for(self, contract: ContractConfig) -> str | None:
        return contract.command or self.command


KNOWN = {
    "base_url", "contracts", "store", "command", "command_timeout", "ack", "poll_interval", "reread_interval",
    "reread_days_before", "reread_days_after", "reset_days_after", "stream", "stream_retry_interval", "stream_failures",
    "idle_timeout", "timeout", "retries", "thresholds",
}  # fmt: skip


def load(path: Path | str | None = None) -> Config:
    """The configuration at ``path`` (default ``$SMARTOA_CLIENT_CONFIG`` or ~/.config/smartoa/client.toml)."""
    where = Path(path or os.environ.get("SMARTOA_CLIENT_CONFIG") or DEFAULT_PATH).expanduser()
    try:
        data = tomllib.loads(where.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no configuration file at {where} (give one with --config)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    return from_dict(data, where)


def from_dict(data: dict[str, Any], where: Path | None = None) -> Config:
    unknown = set(data) - KNOWN
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    base_url = data.get("base_url")
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: base_url must be an http(s) URL, e.g. https://smartoa.example.fr")
    contracts = []
    seen: set[str] = set()
    for index, item in enumerate(data.get("contracts") or []):
        contracts.append(_contract(item, index, where))
        if contracts[-1].id in seen:
            raise ConfigError(f"{where}: contract {contracts[-1].id} is listed twice")
        seen.add(contracts[-1].id)
    if not contracts:
        raise ConfigError(f"{where}: no [[contracts]] listed")
    options = {k: v for k, v in data.items() if k not in ("base_url", "contracts", "store", "thresholds")}
    try:
        config = Config(base_url=base_url.rstrip("/"), contracts=contracts, path=where, **options)
        config.thresholds = Thresholds(**(data.get("thresholds") or {}))
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if "store" in data:
        config.store = _path(data["store"], where)
    return config


def _contract(item: Any, index: int, where: Path | None) -> ContractConfig:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise ConfigError(f"{where}: contracts[{index}] needs an id")
    unknown = set(item) - {"id", "token_env", "token_file", "command"}
    if unknown:
        raise ConfigError(f"{where}: contract {item['id']}: unknown setting(s) {', '.join(sorted(unknown))}")
    if bool(item.get("token_env")) == bool(item.get("token_file")):
        raise ConfigError(f"{where}: contract {item['id']} needs exactly one of token_env or token_file")
    token_file = _path(item["token_file"], where) if item.get("token_file") else None
    return ContractConfig(item["id"], item.get("token_env"), token_file, item.get("command"))


def _path(value: Any, where: Path | None) -> Path:
    path = Path(str(value)).expanduser()
    if not path.is_absolute() and where is not None:
        path = where.parent / path
    return path
