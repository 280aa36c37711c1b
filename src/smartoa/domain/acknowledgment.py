"""Where a day's acknowledgment stands, in the words the pages use. Pure: the facts and "now" are passed in.

A day is acknowledged when its current version is; an acknowledgment of an earlier version was voided by the
modification that followed it; from HLAR on nothing changes any more (``locked``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    NOT_PUBLISHED = "not_published"  # no consigne for the day yet
    TO_DO = "to_do"  # published, not acknowledged, before HLAR
    DONE = "done"  # the current version is acknowledged (it may be acknowledged again until HLAR)
    VOIDED = "voided"  # an earlier version was acknowledged; a modification voided it: to do again
    MISSED = "missed"  # HLAR passed without an acknowledgment of the current version


@dataclass(frozen=True)
class DayAcknowledgment:
    status: Status
    version: int | None  # the current version
    acknowledged_version: int | None  # the version of the latest acknowledgment
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    deadline: datetime | None
    locked: bool

    @property
    def can_acknowledge(self) -> bool:
        return self.version is not None and not self.locked


def status_of(
    *,
    version: int | None,
    acknowledged_versions: set[int],
    latest: tuple[int, datetime, str] | None,
    deadline: datetime,
    now: datetime,
) -> DayAcknowledgment:
    """The day's state from its current ``version`` (None: not published), the versions acknowledged, the latest
    acknowledgment (version, when, by whom) and the deadline (HLAR)."""
    locked = not now < deadline
    latest_version, at, by = latest or (None, None, None)
    if version is None:
        status = Status.NOT_PUBLISHED
    elif version in acknowledged_versions:
        status = Status.DONE
    elif locked:
        status = Status.MISSED
    elif acknowledged_versions:
        status = Status.VOIDED
    else:
        status = Status.TO_DO
    return DayAcknowledgment(status, version, latest_version, at, by, deadline, locked)
