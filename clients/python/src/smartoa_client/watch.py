"""``watch``: one thread per contract follows the event stream (falling back to conditional polling while the
stream is unavailable), re-reads every day of the window at start-up and periodically (a change is never missed
even if an event is), and processes each new version (command, then acknowledgment). The main thread warns as
HLAR approaches unacknowledged."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta

from smartoa_client.api import ApiError
from smartoa_client.config import Config, ConfigError
from smartoa_client.documents import InvalidDocument
from smartoa_client.events import HEARTBEAT, EventStream, StreamUnavailable
from smartoa_client.fleet import ContractSession, Received, today, warn
from smartoa_client.status import CRITICAL, findings
from smartoa_client.store import Store

log = logging.getLogger("smartoa_client")

AUTH_RETRY_SECONDS = 60


class ContractWatcher:
    def __init__(self, config: Config, session: ContractSession, *, ack: bool, stop: threading.Event):
        self.config, self.session, self.ack, self.stop = config, session, ack, stop
        self.id = session.id
        self.store = session.store
        self.next_reread = 0.0
        self.stream_retry_at = 0.0
        self.stream: EventStream | None = None
        self.mode = "starting"
        self.last_heartbeat_note = 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.reread_if_due()
                if self.config.stream and time.monotonic() >= self.stream_retry_at:
                    self.follow_stream()
                else:
                    self.mode = "polling"
                    self.poll_once()
                    self.stop.wait(self.config.poll_interval)
            except StreamUnavailable as exc:
                warn(f"{self.id}: event stream unavailable ({exc}); polling every {self.config.poll_interval:g} s")
                self.stream_retry_at = time.monotonic() + self.config.stream_retry_interval
            except InvalidDocument as error:
                warn(f"{self.id}: REFUSED {error}")
                self.stop.wait(self.config.poll_interval)
            except ApiError as error:
                warn(f"{self.id}: {error}")
                if error.auth_failure:
                    self.stop.wait(AUTH_RETRY_SECONDS)
                    self._reload_token()
                else:
                    self.stop.wait(self.config.poll_interval)
            except ConfigError as error:
                warn(str(error))
                self.stop.wait(AUTH_RETRY_SECONDS)
            except Exception:
                log.exception("%s: unexpected error; continuing", self.id)
                self.stop.wait(self.config.poll_interval)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()

    def _reload_token(self) -> None:
        try:
            self.session.reload_token()
        except ConfigError as error:
            warn(str(error))

    # --- the stream -------------------------------------------------------------------------------------------

    def follow_stream(self) -> None:
        last_id = self.store.contract(self.id).last_event_id
        self.stream = EventStream(
            self.session.client,
            last_id,
            idle_timeout=self.config.idle_timeout,
            stop=self.stop,
            on_connect=self._connected,
            max_failures=self.config.stream_failures,
        )
        try:
            for event in self.stream:
                if event.type == HEARTBEAT:
                    self._alive()
                else:
                    self.on_event(event.type, event.data, event.id)
                self.reread_if_due()
        finally:
            self.stream = None

    def _connected(self) -> None:
        self.mode = "stream"
        self.store.stream_connected(self.id)
        self.store.succeeded(self.id)
        log.info("%s: event stream open", self.id)

    def _alive(self) -> None:
        if time.monotonic() - self.last_heartbeat_note >= 20:  # the server is alive: a successful contact
            self.last_heartbeat_note = time.monotonic()
            self.store.succeeded(self.id)

    def on_event(self, kind: str, data: dict, event_id: str | None) -> None:
        """Act on one event, then remember its id (so an event whose handling failed is replayed on reconnect)."""
        log.info("%s: event %s %s", self.id, event_id, kind)
        day = _day(data.get("day"))
        if kind in ("consigne.published", "consigne.modified") and day is not None:
            self.handle_day(day, source="stream", event_id=event_id)
        elif kind == "hlar.changed" and day is not None:
            state = self.session.client.ack_state(day)
            self.store.set_day(self.id, day, state.version, state.acknowledged_version, state.deadline)
            warn(f"{self.id} {day}: HLAR changed to {data.get('hlar')} (was {data.get('previous_hlar')})")
        elif kind == "token.expiring" and data.get("expires_at"):
            expires = datetime.fromisoformat(data["expires_at"])
            self.store.set_token_expiry(self.id, expires)
            warn(f"{self.id}: the API token expires at {expires.isoformat()}: run smartoa-client renew-token")
        elif kind == "stream.reset":
            warn(f"{self.id}: {data.get('message', 'events were missed')}; re-reading the days")
            self.reread(days_after=self.config.reset_days_after)
        if event_id is not None:
            self.store.set_last_event_id(self.id, event_id)

    # --- polling and re-reading -------------------------------------------------------------------------------

    def poll_once(self) -> None:
        """Conditional GET of the latest document (304 when unchanged); a new one is processed."""
        received = self.session.read_latest(source="poll")
        if received is not None:
            self.process(received)

    def reread_if_due(self) -> None:
        if time.monotonic() >= self.next_reread:
            self.reread()

    def reread(self, days_after: int = 0) -> None:
        """Re-read every day of the window (yesterday … the day after tomorrow by default), or up to ``days_after``
        days ahead when more (after a ``stream.reset``: events about any future day may have been missed)."""
        self.next_reread = time.monotonic() + self.config.reread_interval
        start, end = self.session.window()
        end = max(end, today() + timedelta(days=days_after))
        for received in self.session.read_range(start, end, source="reread"):
            self.process(received)

    def handle_day(self, day: date, *, source: str, event_id: str | None = None) -> None:
        try:
            received = self.session.read_day(day, source=source, event_id=event_id)
        except InvalidDocument as error:
            warn(f"{self.id} {day}: REFUSED {error}")
            return
        if received is not None:
            self.process(received, event_id)

    def process(self, received: Received, event_id: str | None = None) -> None:
        if received.new:
            c = received.consigne
            log.info(
                "%s %s: version %s received (%s)", self.id, c.application_date, received.state.version, c.update_date
            )
        if self.session.needs_processing(received, ack=self.ack):
            self.session.process(received, ack=self.ack, event_id=event_id)


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


class HlarAlarm:
    """Loud, repeated warnings (stderr) while a day is unacknowledged close to its HLAR."""

    def __init__(self, config: Config, store: Store, every: float = 300):
        self.config, self.store, self.every = config, store, every
        self.last: dict[str, float] = {}

    def check(self) -> None:
        now = datetime.now(UTC)
        for finding in findings(self.config, self.store, now):
            if "HLAR" not in finding.text:
                continue
            if time.monotonic() - self.last.get(finding.text.split(",")[0], -1e9) >= self.every:
                self.last[finding.text.split(",")[0]] = time.monotonic()
                warn(finding.text, "CRITICAL" if finding.level == CRITICAL else "WARNING")


def watch(config: Config, store: Store, *, ack: bool, stop: threading.Event) -> int:
    """Run until ``stop`` is set; returns the exit status."""
    sessions = [ContractSession(config, contract, store) for contract in config.contracts]
    watchers = [ContractWatcher(config, session, ack=ack, stop=stop) for session in sessions]
    threads = [threading.Thread(target=w.run, name=f"watch-{w.id}", daemon=True) for w in watchers]
    for thread in threads:
        thread.start()
    alarm = HlarAlarm(config, store)
    next_alarm = 0.0
    try:
        while not stop.is_set():
            if time.monotonic() >= next_alarm:
                alarm.check()
                next_alarm = time.monotonic() + 30
            stop.wait(1.0)
    finally:
        stop.set()
        for watcher in watchers:
            watcher.close()
        for thread in threads:
            thread.join(timeout=5)
        for session in sessions:
            session.close()
    return 0
