"""What every page of the portal shows."""

from django.conf import settings


def portal(request) -> dict:
    return {"support_email": settings.SMARTOA_SUPPORT_EMAIL}
