"""The notification preferences in chromium, in French and English, at phone and desktop width: the account's
choices on "Mon compte"; a contract's "Notifications" tab where an extra address is added, its confirmation link
read from the e-mail the real mail backend wrote and followed in a browser without an account, confirmed, the
used link refused, then the address removed; a bad address refused under its field. Every page screenshot and
checked by axe-core."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from smartoa.audit.models import AuditEvent
from smartoa.notifications import preferences
from smartoa.notifications.models import ExtraAddress
from tests.browser import DESKTOP, PHONE, needs_chromium
from tests.portal.test_contract_pages import signed_in  # noqa: F401 - the fixture

pytestmark = needs_chromium

TEXT = {
    "fr": {
        "English": "English",
        "account": "Mon compte",
        "section": "Notifications par e-mail",
        "publications": "Recevoir un e-mail à chaque publication",
        "reminder": "Rappel d'acquiescement avant l'HLAR",
        "one hour": "1 heure",
        "save choices": "Enregistrer mes choix",
        "saved": "Vos choix de notification sont enregistrés.",
        "own reminder": "Rappel avant l'HLAR pour ce contrat",
        "four hours": "4 heures",
        "save": "Enregistrer",
        "own saved": "Votre rappel pour ce contrat est enregistré.",
        "address": "Adresse e-mail",
        "language": "Langue des e-mails",
        "add": "Ajouter et envoyer le lien",
        "sent": "Un lien de confirmation a été envoyé à salle@example.fr.",
        "pending": "En attente de confirmation",
        "bad": "n'est pas une adresse e-mail",
        "confirm": "Confirmer l'adresse",
        "confirmed": "Adresse confirmée",
        "refused": "Lien non valable",
        "confirmed badge": "Confirmée",
        "remove": "Retirer salle@example.fr",
        "removed": "L'adresse salle@example.fr est retirée",
        "none": "Aucune adresse supplémentaire.",
    },
    "en": {
        "English": "English",
        "account": "My account",
        "section": "E-mail notifications",
        "publications": "Receive an e-mail at each publication",
        "reminder": "Acknowledgment reminder before HLAR",
        "one hour": "1 hour",
        "save choices": "Save my choices",
        "saved": "Your notification choices are saved.",
        "own reminder": "Reminder before HLAR for this contract",
        "four hours": "4 hours",
        "save": "Save",
        "own saved": "Your reminder for this contract is saved.",
        "address": "E-mail address",
        "language": "Language of the e-mails",
        "add": "Add and send the link",
        "sent": "A confirmation link was sent to salle@example.fr.",
        "pending": "Waiting for confirmation",
        "bad": "is not an e-mail address",
        "confirm": "Confirm the address",
        "confirmed": "Address confirmed",
        "refused": "Link not valid",
        "confirmed badge": "Confirmed",
        "remove": "Remove salle@example.fr",
        "removed": "The address salle@example.fr is removed",
        "none": "No extra address.",
    },
}


def confirmation_path(mailbox, address: str) -> str:
    """The path of the confirmation link in the latest e-mail to ``address`` (the e-mail names the public URL)."""
    body = mailbox.to(address)[-1]
    return urlsplit(re.search(r"https?://\S+/notifications/confirmer/\S+/", body).group(0)).path


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_choices_and_an_extra_address_confirmed_by_its_link(signed_in, visitor, mailbox, language, width):  # noqa: F811
    t = TEXT[language]
    v = signed_in(width=width)
    page = v.page
    if language == "en":
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
    # "Mon compte": the account's choices for all its contracts.
    page.get_by_role("link", name=t["account"]).click()
    section = page.locator("#notifications")
    assert t["section"] in section.inner_text()
    page.get_by_label(t["publications"]).uncheck()
    page.get_by_label(t["reminder"], exact=True).select_option(label=t["one hour"])
    page.get_by_role("button", name=t["save choices"]).click()
    assert page.get_by_text(t["saved"]).is_visible()
    assert f'<html lang="{language}"' in page.content()
    assert not page.get_by_label(t["publications"]).is_checked()
    v.check_page(f"{language}-account-notifications")
    # The contract's tab: its own reminder, then an extra address.
    v.go("/contrats/BOA00001/")
    page.get_by_role("link", name="Notifications").click()
    assert t["none"] in page.locator("#addresses").inner_text()
    v.check_page(f"{language}-contract-notifications-empty")
    page.get_by_label(t["own reminder"]).select_option(label=t["four hours"])
    page.locator("#own").get_by_role("button", name=t["save"], exact=True).click()
    assert page.get_by_text(t["own saved"]).is_visible()
    page.get_by_label(t["address"], exact=True).fill("salle@")
    page.get_by_role("button", name=t["add"]).click()
    assert t["bad"] in page.locator("#id_email_error").inner_text()
    v.check_page(f"{language}-contract-notifications-refused")
    page.get_by_label(t["address"], exact=True).fill("salle@example.fr")
    page.get_by_label(t["language"]).select_option("en")
    page.get_by_role("button", name=t["add"]).click()
    assert page.get_by_text(t["sent"]).is_visible()
    assert t["pending"] in page.locator("#addresses").inner_text()
    v.check_page(f"{language}-contract-notifications-pending")
    # The mailbox has no account: the link from the e-mail, in a browser that never logged in.
    path = confirmation_path(mailbox, "salle@example.fr")
    control_room = visitor(width=width, language=language)
    control_room.go(path)
    assert "salle@example.fr" in control_room.page.locator("main").inner_text()
    assert f'<html lang="{language}"' in control_room.page.content()
    control_room.check_page(f"{language}-confirm-address")
    control_room.page.get_by_role("button", name=t["confirm"]).click()
    assert control_room.page.get_by_role("heading", name=t["confirmed"]).is_visible()
    control_room.check_page(f"{language}-address-confirmed")
    assert control_room.go(path).status == 404  # the link works once
    assert control_room.page.get_by_role("heading", name=t["refused"]).is_visible()
    control_room.check_page(f"{language}-confirm-refused")
    assert ExtraAddress.objects.get().confirmed_at is not None
    # Back on the portal: confirmed, then removed.
    v.go("/contrats/BOA00001/notifications/")
    assert t["confirmed badge"] in page.locator("#addresses").inner_text()
    v.check_page(f"{language}-contract-notifications-confirmed")
    page.get_by_role("button", name=t["remove"]).click()
    assert page.get_by_text(t["removed"]).is_visible()
    assert not ExtraAddress.objects.exists()
    actions = set(AuditEvent.objects.filter(action__startswith="extra_address.").values_list("action", flat=True))
    assert actions == {"extra_address.added", "extra_address.confirmed", "extra_address.removed"}
    assert preferences.account_choices(signed_in_user()).reminders.minutes == 60


def signed_in_user():
    from smartoa.accounts.models import User

    return User.objects.get(email="producer@example.fr")


def test_an_address_reminder_is_changed_without_javascript(signed_in, mailbox):  # noqa: F811
    v = signed_in(width=PHONE)
    page = v.page
    v.go("/contrats/BOA00001/notifications/")
    page.get_by_label("Adresse e-mail").fill("astreinte@example.fr")
    page.get_by_role("button", name="Ajouter et envoyer le lien").click()
    page.get_by_text("Changer le rappel").click()
    page.locator("#addresses li").get_by_label("Rappel d'acquiescement").select_option("off")
    page.get_by_role("button", name="Enregistrer le rappel astreinte@example.fr").click()
    assert page.get_by_text("Rappel de astreinte@example.fr enregistré.").is_visible()
    assert "Rappel : aucun rappel." in page.locator("#addresses").inner_text()
    assert ExtraAddress.objects.get().reminders is False
    page.get_by_role("button", name="Renvoyer le lien astreinte@example.fr").click()  # too soon after the first
    assert page.get_by_text("attendez quelques minutes").is_visible()
    v.check_page("contract-notifications-resend-refused")


def test_another_producers_contract_has_no_notifications_tab(signed_in):  # noqa: F811
    v = signed_in(width=DESKTOP)
    assert v.go("/contrats/BOA00009/notifications/").status == 404
