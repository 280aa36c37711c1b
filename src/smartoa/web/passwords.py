"""The forms that set a new password (first login, forgotten password, the account page), each error under the
field it concerns: what the password validators refuse under the new password, a mismatch under its
confirmation. (Django's forms put both under the confirmation.)"""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy


def _new_password_fields(form: forms.Form) -> None:
    form.fields["new_password1"].label = gettext_lazy("Nouveau mot de passe")
    form.fields["new_password2"].label = gettext_lazy("Nouveau mot de passe (confirmation)")
    form.fields["new_password2"].help_text = gettext_lazy("Saisissez-le une seconde fois.")


class NewPasswordErrors:
    """``clean`` of the set-password forms: the mismatch under the confirmation, the validators' messages under
    the new password."""

    error_messages = {"password_mismatch": gettext_lazy("Les deux mots de passe saisis sont différents.")}

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")  # type: ignore[attr-defined]
        self.validate_password_for_user(self.user, "new_password1")  # type: ignore[attr-defined]
        return forms.Form.clean(self)  # type: ignore[arg-type]


class FirstPasswordForm(NewPasswordErrors, SetPasswordForm):
    """A new password without the old one: the first login (the provisional password) and the reset link."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _new_password_fields(self)


class AccountPasswordForm(NewPasswordErrors, PasswordChangeForm):
    """The account page's change of password, with the current one."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        **NewPasswordErrors.error_messages,
        "password_incorrect": gettext_lazy("Mot de passe actuel incorrect."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = gettext_lazy("Mot de passe actuel")
        _new_password_fields(self)
