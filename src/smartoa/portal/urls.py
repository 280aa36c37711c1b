from django.urls import path

from smartoa.portal.views import (
    account,
    api_access,
    bulk,
    contract,
    contracts,
    curve,
    exports,
    history,
    notifications,
    sessions,
    webhooks,
)

app_name = "portal"

urlpatterns = [
    # The account.
    path("compte/", account.AccountView.as_view(), name="account"),
    path("compte/mot-de-passe/", account.PasswordView.as_view(), name="password"),
    path("compte/codes-de-secours/nouveaux/", account.BackupCodesRenewView.as_view(), name="backup-codes-renew"),
    path("compte/notifications/", notifications.AccountNotificationsView.as_view(), name="account-notifications"),
    # The link that confirms a contract's extra e-mail address: public (the mailbox has no account).
    path("notifications/confirmer/<str:token>/", notifications.ConfirmAddressView.as_view(), name="confirm-address"),
    path("compte/sessions/fermer/", sessions.EndOtherSessionsView.as_view(), name="end-other-sessions"),
    # Contracts.
    path("", contracts.ContractsView.as_view(), name="contracts"),
    path("acquiescer/", contracts.AcknowledgeManyView.as_view(), name="acknowledge-many"),
    path("acquiescer/tout/", contracts.AcknowledgeAllView.as_view(), name="acknowledge-all"),
    path("acces-api/", bulk.BulkAccessView.as_view(), name="bulk-access"),
    path("acces-api/adresse/", bulk.BulkAddressView.as_view(), name="bulk-address"),
    path("acces-api/jetons/", bulk.BulkTokensView.as_view(), name="bulk-tokens"),
    path("contrats/<str:contract_id>/", contract.ContractView.as_view(), name="contract"),
    path("contrats/<str:contract_id>/nom/", contract.RenameView.as_view(), name="rename"),
    path("contrats/<str:contract_id>/jours/<str:day>/", contract.DayView.as_view(), name="day"),
    path(
        "contrats/<str:contract_id>/jours/<str:day>/acquiescer/",
        contract.AcknowledgeView.as_view(),
        name="acknowledge",
    ),
    path("contrats/<str:contract_id>/jours/<str:day>/bloc/", contract.DayBlockView.as_view(), name="day-block"),
    path("contrats/<str:contract_id>/jours/<str:day>.<str:fmt>", contract.DayDocumentView.as_view(), name="document"),
    path("contrats/<str:contract_id>/acces/", api_access.AccessView.as_view(), name="access"),
    path(
        "contrats/<str:contract_id>/acces/retirer/<str:address>/",
        api_access.RemoveAddressView.as_view(),
        name="remove-address",
    ),
    path("contrats/<str:contract_id>/jeton/", api_access.TokenView.as_view(), name="token"),
    path(
        "contrats/<str:contract_id>/acces/consigne-de-test/",
        api_access.SandboxConsigneView.as_view(),
        name="sandbox-consigne",
    ),
    path("contrats/<str:contract_id>/jeton/revoquer/", api_access.RevokeTokenView.as_view(), name="revoke-token"),
    path("contrats/<str:contract_id>/webhook/", webhooks.WebhookView.as_view(), name="webhook"),
    path("contrats/<str:contract_id>/webhook/test/", webhooks.TestWebhookView.as_view(), name="webhook-test"),
    path("contrats/<str:contract_id>/webhook/supprimer/", webhooks.RemoveWebhookView.as_view(), name="webhook-remove"),
    path("contrats/<str:contract_id>/exports/", exports.ExportView.as_view(), name="exports"),
    path("contrats/<str:contract_id>/courbe/", curve.CurveView.as_view(), name="curve"),
    path("contrats/<str:contract_id>/releve/<str:month>.<str:fmt>", curve.StatementView.as_view(), name="statement"),
    path("contrats/<str:contract_id>/historique/", history.HistoryView.as_view(), name="history"),
    path("contrats/<str:contract_id>/historique/<str:month>/", history.HistoryView.as_view(), name="history-month"),
    path(
        "contrats/<str:contract_id>/notifications/",
        notifications.ContractNotificationsView.as_view(),
        name="notifications",
    ),
    path(
        "contrats/<str:contract_id>/notifications/rappel/",
        notifications.ContractReminderView.as_view(),
        name="notifications-reminder",
    ),
    path(
        "contrats/<str:contract_id>/notifications/adresses/",
        notifications.AddAddressView.as_view(),
        name="address-add",
    ),
    path(
        "contrats/<str:contract_id>/notifications/adresses/<int:pk>/renvoyer/",
        notifications.AddressActionView.as_view(action="resend"),
        name="address-resend",
    ),
    path(
        "contrats/<str:contract_id>/notifications/adresses/<int:pk>/rappel/",
        notifications.AddressActionView.as_view(action="reminders"),
        name="address-reminder",
    ),
    path(
        "contrats/<str:contract_id>/notifications/adresses/<int:pk>/retirer/",
        notifications.AddressActionView.as_view(action="remove"),
        name="address-remove",
    ),
]
