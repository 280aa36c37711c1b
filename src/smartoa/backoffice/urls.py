"""The back office's pages, under /backoffice/ (operators only: ``backoffice/access.py``)."""

from django.urls import path

from smartoa.backoffice.views import (
    accounts,
    audit,
    changes,
    compliance,
    consignes_file,
    contract_form,
    contracts,
    control,
    curves,
    incidents,
    publication,
)

app_name = "backoffice"

urlpatterns = [
    path("", control.ControlView.as_view(), name="control"),
    # Publication of a day's consignes, incident changes, HLAR.
    path("publication/", publication.PricesView.as_view(), name="publication"),
    path("publication/preview/", publication.PreviewView.as_view(), name="publication-preview"),
    path("publication/publish/", publication.PublishView.as_view(), name="publish"),
    path("publication/file/", consignes_file.FileView.as_view(), name="consignes-file"),
    path("publication/file/preview/", consignes_file.FilePreviewView.as_view(), name="consignes-file-preview"),
    path("publication/file/publish/", consignes_file.FilePublishView.as_view(), name="consignes-file-publish"),
    path("publication/modify/", changes.ModifyView.as_view(), name="modify"),
    path("publication/modify/choose/", incidents.ChooseView.as_view(), name="consigne-choose"),
    path("publication/modify/<str:contract_id>/<str:day>/", incidents.ChangeView.as_view(), name="consigne-change"),
    path("hlar/", changes.HlarView.as_view(), name="hlar"),
    # Contracts and accounts.
    path("contracts/", contracts.ContractsView.as_view(), name="contracts"),
    path("contracts/import/", contracts.ImportView.as_view(), name="contracts-import"),
    path("contracts/import/preview/", contracts.ImportPreviewView.as_view(), name="contracts-import-preview"),
    path("contracts/import/confirm/", contracts.ImportConfirmView.as_view(), name="contracts-import-confirm"),
    path("contracts/new/", contract_form.ContractFormView.as_view(), name="contract-new"),
    path("contracts/<str:contract_id>/", contracts.ContractView.as_view(), name="contract"),
    path("contracts/<str:contract_id>/edit/", contract_form.ContractFormView.as_view(), name="contract-edit"),
    path("contracts/<str:contract_id>/active/", contract_form.ActiveView.as_view(), name="contract-active"),
    path("accounts/", accounts.AccountsView.as_view(), name="accounts"),
    path("accounts/new/", accounts.NewAccountView.as_view(), name="account-new"),
    path("accounts/<int:pk>/reset-totp/", accounts.ResetTotpView.as_view(), name="reset-totp"),
    path("accounts/<int:pk>/role/", accounts.RoleView.as_view(), name="account-role"),
    # The audit log.
    path("audit/", audit.AuditView.as_view(), name="audit"),
    # Curves, compliance and statements.
    path("curves/upload/", curves.curve_upload, name="curve-upload"),
    path("contracts/<str:contract_id>/curve/", curves.contract_curve, name="contract-curve"),
    path(
        "contracts/<str:contract_id>/statement/<str:month>.<str:fmt>",
        curves.contract_statement,
        name="contract-statement",
    ),
    path("compliance/", compliance.ComplianceView.as_view(), name="compliance"),
    path("compliance/run/", compliance.RunView.as_view(), name="compliance-run"),
    path("compliance/requests/<int:pk>/", compliance.RequestView.as_view(), name="compliance-request"),
    path("compliance/requests/<int:pk>/progress/", compliance.ProgressView.as_view(), name="compliance-progress"),
    path("compliance/<str:month>/", compliance.MonthView.as_view(), name="compliance-month"),
    path("compliance/<str:month>/<str:contract_id>/", compliance.StatementView.as_view(), name="compliance-statement"),
]
