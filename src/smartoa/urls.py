from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django_otp.admin import OTPAdminSite

from smartoa.api.api import api

# The admin requires a verified second factor, and everyone logs in through the portal's two steps.
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/login/", RedirectView.as_view(pattern_name="web:login", query_string=True)),
    path("admin/logout/", RedirectView.as_view(pattern_name="web:logout")),
    # A password is changed on the account's page (checked and audited), not by the admin's unaudited form.
    path("admin/password_change/", RedirectView.as_view(pattern_name="portal:account")),
    path("admin/password_change/done/", RedirectView.as_view(pattern_name="portal:account")),
    path("admin/", admin.site.urls),
    path("backoffice/", include("smartoa.backoffice.urls")),
    path("", include("smartoa.web.urls")),
    path("", include("smartoa.portal.urls")),
]

# Error pages in the portal's frame and the visitor's language (the API answers JSON: api/errors.py).
handler400 = "smartoa.web.views.errors.bad_request"
handler403 = "smartoa.web.views.errors.forbidden"
handler404 = "smartoa.web.views.errors.not_found"
handler500 = "smartoa.web.views.errors.server_error"
