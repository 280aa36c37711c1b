"""Sessions that a page refreshing itself does not keep alive.

A portal session ends after SMARTOA_SESSION_IDLE_MINUTES without a request (each request renews it). A page left
open polls for changes every half minute: those requests mark themselves passive (``request.passive_session``)
and renew nothing, so that an unattended page still ends its session.
"""

from __future__ import annotations

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, except that a passive request that changed nothing in its session neither saves
    it nor renews its cookie."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if getattr(request, "passive_session", False) and session is not None and not session.modified:
            return response
        return super().process_response(request, response)
