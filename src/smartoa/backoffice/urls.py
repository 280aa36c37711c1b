from django.urls import path

from smartoa.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("curves/upload/", views.curve_upload, name="curve-upload"),
    path("contracts/<str:contract_id>/curve/", views.contract_curve, name="contract-curve"),
    path(
        "contracts/<str:contract_id>/statement/<str:month>.<str:fmt>",
        views.contract_statement,
        name="contract-statement",
    ),
]
