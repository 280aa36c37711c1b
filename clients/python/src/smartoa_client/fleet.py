"""One contract of the fleet: its API client bound to the store, reading a day or the latest document together with
its version and acknowledgment state, recording what was received, and processing a new version (the user's
command, then the acknowledgment)."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from smartoa_client.api import AckState, ApiError, Backoff, Client
from smartoa_client.config import Config, ContractConfig
from smartoa_client.documents import PARIS, Consigne, canonical_hash
from smartoa_client.store import Receipt, Store

log = logging.getLogger("smartoa_client")


def today() -> date:
    return datetime.now(PARIS).date()


@dataclass
class Received:
    """A document read from the server and recorded: ``new`` when it differs from the day's previous one."""

    consigne: Consigne
    receipt: Receipt
    state: AckState
    new: bool


class ContractSession:
    def __init__(self, config: Config, contract: ContractConfig, store: Store, *, backoff: Backoff | None = None):
        self.config, self.contract, self.store = config, contract, store
        self.id = contract.id
        self.client = Client(
            config.base_url,
            contract.token(),
            contract=contract.id,
            timeout=config.timeout,
            backoff=backoff or Backoff(attempts=config.retries),
            on_success=lambda: store.succeeded(contract.id),
        )

    def close(self) -> None:
        self.client.close()

    def reload_token(self) -> None:
        """Use the token the configuration gives now (a token file renewed by ``renew-token``)."""
        token = self.contract.token()
        if token != self.client.token:
            self.client = Client(
                self.config.base_url,
                token,
                contract=self.id,
                timeout=self.config.timeout,
                backoff=self.client.backoff,
                on_success=self.client.on_success,
            )

    # --- reading ----------------------------------------------------------------------------------------------

    def read_day(
        self, day: date, *, source: str, event_id: str | None = None, known: tuple[Consigne, bytes] | None = None
    ) -> Received | None:
        """The day's current document with its version (None when nothing is published); recorded in the store.

        The version comes from the acknowledgment state; the document is read again if it changed meanwhile, so the
        version recorded is the one of the document kept."""
        found = known
        for _ in range(3):
            if found is None:
                found = self.client.day(day)
                if found is None:
                    return None
            state = self.client.ack_state(day)
            again = self.client.day(day) if self._is_new(day, found[1]) else found
            if again is not None and canonical_hash(again[1]) == canonical_hash(found[1]):
                return self._record(found[0], found[1], state, source=source, event_id=event_id)
            found = again
        raise ApiError(0, "unstable", f"{self.id} {day}: the consigne changed during three reads in a row")

    def read_latest(self, *, source: str, conditional: bool = True) -> Received | None:
        """The latest document (conditional GET on the stored ETag); None when unchanged (304) or none published."""
        etag = self.store.contract(self.id).latest_etag if conditional else None
        try:
            fetched = self.client.latest(etag)
        except ApiError as error:
            if error.status == 404 and error.code == "not_found":
                return None
            raise
        if fetched.not_modified or fetched.consigne is None:
            return None
        received = self.read_day(
            fetched.consigne.application_date, source=source, known=(fetched.consigne, fetched.raw)
        )
        self.store.set_etag(self.id, fetched.etag)
        return received

    def read_range(self, start: date, end: date, *, source: str) -> list[Received]:
        """Every published day in [start, end], each with its state; recorded."""
        result = []
        for consigne, raw in self.client.days(start, end):
            received = self.read_day(consigne.application_date, source=source, known=(consigne, raw))
            if received is not None:
                result.append(received)
        return result

    def window(self) -> tuple[date, date]:
        first = today() - timedelta(days=self.config.reread_days_before)
        return first, today() + timedelta(days=self.config.reread_days_after)

    def _is_new(self, day: date, raw: bytes) -> bool:
        last = self.store.latest(self.id, day)
        return last is None or last.content_hash != canonical_hash(raw)

    def _record(
        self, consigne: Consigne, raw: bytes, state: AckState, *, source: str, event_id: str | None
    ) -> Received:
        receipt, new = self.store.record(
            self.id, consigne, raw, source=source, version=state.version, event_id=event_id
        )
        self.store.set_day(
            self.id, consigne.application_date, state.version, state.acknowledged_version, state.deadline
        )
        return Received(consigne, receipt, state, new)

    # --- acting -----------------------------------------------------------------------------------------------

    def acknowledge(self, day: date, version: int | None = None) -> AckState:
        state = self.client.acknowledge(day, version)
        self.store.set_day(self.id, day, state.version, state.acknowledged_version, state.deadline)
        return state

    def needs_processing(self, received: Received, *, ack: bool) -> bool:
        """Whether the user's command (or the acknowledgment) is still to be done for this version: a new version,
        or one whose command failed before, of a day not over yet."""
        if received.consigne.application_date < today() or received.state.locked:
            return False
        if self.config.command_for(self.contract):
            return received.new or received.receipt.command_status != 0
        return ack and not received.state.acknowledged

    def process(self, received: Received, *, ack: bool, event_id: str | None = None) -> bool:
        """Run the user's command with the document on stdin, then (``ack``) acknowledge that version only if the
        command exited 0. Returns whether everything succeeded."""
        command = self.config.command_for(self.contract)
        day, version = received.consigne.application_date, received.state.version
        if command:
            status = run_command(command, received, self.id, event_id, timeout=self.config.command_timeout)
            self.store.command_ran(received.receipt.id, status)
            if status != 0:
                warn(f"{self.id} {day} v{version}: the command exited {status}; version NOT acknowledged")
                return False
        if ack and not (received.state.acknowledged and received.state.acknowledged_version == version):
            try:
                state = self.acknowledge(day, version)
            except ApiError as error:
                warn(f"{self.id} {day} v{version}: acknowledgment refused: {error}")
                return False
            self.store.acked(received.receipt.id)
            log.info("%s %s v%s acknowledged (HLAR %s)", self.id, day, state.version, state.deadline.isoformat())
        return True


def run_command(command: str, received: Received, contract: str, event_id: str | None, *, timeout: float) -> int:
    """Run ``command`` (split like a shell line; no shell) with the raw document on stdin; its exit status (-1 when
    it could not start or timed out)."""
    env = {
        **os.environ,
        "SMARTOA_CONTRACT": contract,
        "SMARTOA_DAY": received.consigne.application_date.isoformat(),
        "SMARTOA_VERSION": str(received.state.version),
        "SMARTOA_UPDATE_DATE": received.consigne.update_date.isoformat(),
        "SMARTOA_HLAR": received.state.deadline.isoformat(),
        "SMARTOA_ACKNOWLEDGED": "1" if received.state.acknowledged else "0",
        "SMARTOA_EVENT_ID": event_id or "",
    }
    try:
        done = subprocess.run(  # noqa: S603 - the operator's own configured command  # nosec B603
            shlex.split(command), input=received.receipt.raw, env=env, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        warn(f"{contract}: the command {command!r} failed: {exc}")
        return -1
    return done.returncode


def warn(text: str, level: str = "WARNING") -> None:
    """A loud warning on stderr."""
    print(f"smartoa-client: {level}: {text}", file=sys.stderr, flush=True)  # noqa: T201
