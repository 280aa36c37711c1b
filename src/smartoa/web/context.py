"""What every page's frame shows, and where an account's home is (the producers' contracts, the operators'
control screen: URL names in settings, so the web layer imports neither the portal nor the back office)."""

from django.conf import settings
from django.urls import reverse


def home_of(request) -> str:
    """The page an account lands on after its login, and that 'back home' links lead to."""
    user = getattr(request, "user", None)
    staff = bool(user is not None and user.is_authenticated and user.is_staff)
    return reverse(settings.SMARTOA_STAFF_HOME if staff else settings.SMARTOA_HOME)


def frame(request) -> dict:
    return {"support_email": settings.SMARTOA_SUPPORT_EMAIL, "home_url": home_of(request)}
