"""WSGI entry point of the web processes: a request id, the probes and request metrics (core/probes.py:
/healthz, /readyz, /metrics), a database time budget, then the lean hot path for
GET /api/v1/effacement in front of Django. Web processes wait less on the database than the command line:
SMARTOA_DB_TIMEOUT for the API, SMARTOA_DB_PAGE_TIMEOUT for other pages (core/dbguard.py)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartoa.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from smartoa.api.errors import PREFIX
from smartoa.api.hotpath import EffacementHotPath
from smartoa.core.dbguard import DatabaseBudget, use_web_limits
from smartoa.core.logging import RequestIdWsgi
from smartoa.core.probes import OpsEdge

django_application = get_wsgi_application()
use_web_limits(settings.SMARTOA_DB_TIMEOUT)
application = RequestIdWsgi(
    OpsEdge(
        DatabaseBudget(
            EffacementHotPath(django_application),
            api_prefix=PREFIX,
            api_timeout=settings.SMARTOA_DB_TIMEOUT,
            page_timeout=settings.SMARTOA_DB_PAGE_TIMEOUT,
        )
    )
)
