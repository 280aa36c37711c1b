"""PostgreSQL wakes the stream process: a connection of its own LISTENs on ``smartoa_events`` (the writers NOTIFY
in the transaction that writes event records, delivered at commit) and wakes the hub's reader. When that connection
drops, the hub polls the table meanwhile, and the connection is opened again a few seconds later."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import psycopg
from django.db import connection
from psycopg.conninfo import make_conninfo

from smartoa.notifications.eventlog import CHANNEL

if TYPE_CHECKING:
    from smartoa.stream.hub import Hub

log = logging.getLogger("smartoa.stream")
RECONNECT_SECONDS = 3.0


def conninfo() -> str:
    """The Django database's connection string, with TCP keepalives so that a dead server is noticed."""
    s = connection.settings_dict
    params = {
        "dbname": s["NAME"],
        "user": s.get("USER") or None,
        "password": s.get("PASSWORD") or None,
        "host": s.get("HOST") or None,
        "port": str(s["PORT"]) if s.get("PORT") else None,
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "application_name": "smartoa-stream",
    }
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


async def listen_forever(hub: Hub) -> None:
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo(), autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                hub.listening = True
                hub.wake.set()  # read what was committed while nobody listened
                log.info("listening on %s", CHANNEL)
                async for _ in conn.notifies():
                    hub.wake.set()
        except asyncio.CancelledError:
            raise
        except (psycopg.Error, OSError) as exc:
            log.warning("LISTEN %s: %s; polling every %s s meanwhile", CHANNEL, exc, hub.poll)
        finally:
            hub.listening = False
        await asyncio.sleep(RECONNECT_SECONDS)
