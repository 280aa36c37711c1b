from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from smartoa.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("backoffice/", include("smartoa.backoffice.urls")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
