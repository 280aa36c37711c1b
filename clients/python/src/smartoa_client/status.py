"""The health of the fleet from the local store, Nagios-style: OK (0), WARNING (1), CRITICAL (2), one line.

Critical/warning when a day's current version is unacknowledged close to its HLAR, a token is near expiry, or
no call to the server succeeded for too long (the watch has stopped, the network or the token fails): the store is
only as fresh as its last successful call, so past ``silence_warning_minutes`` / ``silence_critical_minutes`` the
line says the information is stale and since when (Europe/Paris time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smartoa_client.config import Config
from smartoa_client.documents import PARIS
from smartoa_client.store import Store

OK, WARNING, CRITICAL = 0, 1, 2
LABELS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}


@dataclass
class Finding:
    level: int
    text: str


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if abs(minutes) >= 120:
        return f"{minutes // 60} h {minutes % 60:02d}"
    return f"{minutes} min"


def findings(config: Config, store: Store, now: datetime) -> list[Finding]:
    t = config.thresholds
    found: list[Finding] = []
    today = now.astimezone(PARIS).date()
    for contract in config.contracts:
        state = store.contract(contract.id)
        if state.last_success_at is None:
            found.append(Finding(CRITICAL, f"{contract.id}: no successful call recorded"))
        else:
            silence = now - state.last_success_at
            since = state.last_success_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")
            text = f"{contract.id}: no successful call for {_minutes(silence)}, information stale (as of {since})"
            if silence >= timedelta(minutes=t.silence_critical_minutes):
                found.append(Finding(CRITICAL, text))
            elif silence >= timedelta(minutes=t.silence_warning_minutes):
                found.append(Finding(WARNING, text))
        if state.token_expires_at is not None:
            left = state.token_expires_at - now
            if left <= timedelta(days=t.token_critical_days):
                found.append(Finding(CRITICAL, f"{contract.id}: token expires in {_minutes(left)}"))
            elif left <= timedelta(days=t.token_warning_days):
                found.append(Finding(WARNING, f"{contract.id}: token expires in {left.days} days"))
        for day in store.days(contract.id, since=today):
            if day.acknowledged or day.deadline is None or day.version is None or day.deadline <= now:
                continue
            left = day.deadline - now
            text = f"{contract.id} {day.day} v{day.version} not acknowledged, HLAR in {_minutes(left)}"
            if left <= timedelta(minutes=t.hlar_critical_minutes):
                found.append(Finding(CRITICAL, text))
            elif left <= timedelta(minutes=t.hlar_warning_minutes):
                found.append(Finding(WARNING, text))
    return found


def report(config: Config, store: Store, now: datetime) -> tuple[int, str]:
    """(exit status, the one-line Nagios output)."""
    found = findings(config, store, now)
    level = max((f.level for f in found), default=OK)
    if not found:
        return OK, f"SMARTOA-CLIENT OK - {len(config.contracts)} contract(s) fine"
    worst_first = sorted(found, key=lambda f: -f.level)
    return level, f"SMARTOA-CLIENT {LABELS[level]} - " + "; ".join(f.text for f in worst_first)
