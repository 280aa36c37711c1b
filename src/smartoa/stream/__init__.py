"""The event stream process (``smartoa stream``): ``GET /api/v1/events``, server-sent events per contract, served
by one asynchronous process (Starlette on uvicorn) that holds thousands of open connections.

- ``store.py``: its database work (run in a few threads: Django's connections are per thread);
- ``hub.py``: one reader of the event table per process, dispatching to each contract's open streams, the
  heartbeat, and the checks of the open streams when a contract's access changes;
- ``listen.py``: PostgreSQL's LISTEN that wakes the reader (SQLite: the reader polls);
- ``app.py``: the HTTP side (authentication, the SSE wire format, replay from ``Last-Event-ID``).
"""
