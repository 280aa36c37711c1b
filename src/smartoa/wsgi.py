"""WSGI entry point: Django behind the lean hot path for GET /api/v1/effacement."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartoa.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

from smartoa.api.hotpath import EffacementHotPath  # noqa: E402

application = EffacementHotPath(get_wsgi_application())
