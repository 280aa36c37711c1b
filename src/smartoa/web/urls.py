"""The pages every account goes through, producers and operators alike: the login steps, the language, the
backup codes just issued. Reachable before the login is complete (``web/middleware.py``)."""

from django.urls import path

from smartoa.web.views import auth, language

app_name = "web"

urlpatterns = [
    # The login steps (the only pages reachable before password + code).
    path("connexion/", auth.LoginView.as_view(), name="login"),
    path("connexion/code/", auth.VerifyView.as_view(), name="verify"),
    path("connexion/mot-de-passe/", auth.FirstPasswordView.as_view(), name="first-password"),
    path("connexion/authentificateur/", auth.EnrolView.as_view(), name="enrol"),
    path("connexion/oubli/", auth.ResetRequestView.as_view(), name="reset"),
    path(
        "connexion/oubli/envoye/",
        auth.auth_views.PasswordResetDoneView.as_view(template_name="web/auth/reset_sent.html"),
        name="reset-sent",
    ),
    path("connexion/oubli/<uidb64>/<token>/", auth.ResetConfirmView.as_view(), name="reset-confirm"),
    path(
        "connexion/oubli/termine/",
        auth.auth_views.PasswordResetCompleteView.as_view(template_name="web/auth/reset_done.html"),
        name="reset-done",
    ),
    path("connexion/appareil-perdu/", auth.LostDeviceView.as_view(), name="lost-device"),
    path("deconnexion/", auth.LogoutView.as_view(), name="logout"),
    path("langue/", language.LanguageView.as_view(), name="language"),
    path("compte/codes-de-secours/", auth.BackupCodesView.as_view(), name="backup-codes"),
]
