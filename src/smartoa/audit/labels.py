"""What the audit log's actions and the outbox's events mean, in words for people (the codes stay the stable names
that filters, exports and scripts use). An action without a label here is shown as its code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LABELS = {
    # accounts and login
    "account.created": _("Compte créé"),
    "account.activated": _("Compte activé"),
    "account.deactivated": _("Compte désactivé"),
    "account.language": _("Langue du compte changée"),
    "account.provisional_password": _("Nouveau mot de passe provisoire envoyé"),
    "account.reset": _("Accès réinitialisé"),
    "account.role_changed": _("Rôle d'opérateur changé"),
    "account.sessions_ended": _("Autres sessions fermées"),
    "login.password_ok": _("Connexion : mot de passe correct"),
    "login.succeeded": _("Connexion réussie"),
    "login.failed": _("Connexion refusée"),
    "login.locked_out": _("Connexion bloquée (trop d'échecs)"),
    "logout": _("Déconnexion"),
    "password.changed": _("Mot de passe changé"),
    "password.reset": _("Mot de passe réinitialisé"),
    "password.set_by_demo": _("Mot de passe fixé par la démonstration"),
    "password.reset_requested": _("Mot de passe oublié : demande"),
    "password.reset_emailed": _("Mot de passe oublié : lien envoyé"),
    "password.reset_throttled": _("Mot de passe oublié : trop de demandes"),
    "totp.enrolled": _("Double authentification activée"),
    "totp.enrolment_failed": _("Double authentification : code d'activation refusé"),
    "totp.verified": _("Code de double authentification accepté"),
    "totp.failed": _("Code de double authentification refusé"),
    "totp.throttled": _("Codes de double authentification ralentis"),
    "totp.reset": _("Double authentification réinitialisée"),
    "totp.backup_codes_issued": _("Codes de secours émis"),
    "totp.backup_code_used": _("Code de secours utilisé"),
    "role.assigned": _("Rôle attribué"),
    "role.revoked": _("Rôle retiré"),
    "manager.changed": _("Gestionnaire changé"),
    # contracts and API access
    "contract.imported": _("Contrat importé"),
    "contract.activated": _("Contrat activé"),
    "contract.deactivated": _("Contrat désactivé"),
    "contract.renamed": _("Nom d'usage changé"),
    "eligibility.rule_added": _("Règle d'éligibilité ajoutée"),
    "ip.added": _("Adresse IP autorisée"),
    "ip.removed": _("Adresse IP retirée"),
    "ip.cleared": _("Adresses IP effacées"),
    "token.issued": _("Jeton API généré"),
    "token.revoked": _("Jeton API révoqué"),
    "token.expiring": _("Jeton API bientôt expiré"),
    "api.refused": _("Appels API refusés"),
    "webhook.set": _("Webhook enregistré"),
    "webhook.removed": _("Webhook supprimé"),
    "webhook.test": _("Webhook testé"),
    "extra_address.added": _("Adresse e-mail supplémentaire ajoutée"),
    "extra_address.link_sent": _("Lien de confirmation envoyé"),
    "extra_address.confirmed": _("Adresse e-mail supplémentaire confirmée"),
    "extra_address.reminders": _("Rappels d'une adresse supplémentaire changés"),
    "extra_address.removed": _("Adresse e-mail supplémentaire retirée"),
    "notifications.preferences": _("Préférences de notification changées"),
    "notifications.contract_reminders": _("Rappels d'un contrat changés"),
    # consignes, acknowledgments, curves, compliance
    "consigne.published": _("Consignes publiées"),
    "consigne.modified": _("Consigne modifiée"),
    "consigne.sandbox": _("Consigne de test demandée (bac à sable)"),
    "consigne.acknowledged": _("Consigne acquiescée"),
    "acknowledgment.reminder": _("Rappel d'acquiescement"),
    "acknowledgment.missing": _("Acquiescements manquants à l'HLAR"),
    "hlar.set": _("HLAR fixée"),
    "curves.imported": _("Courbes importées"),
    "compliance.requested": _("Calcul de conformité demandé"),
    "compliance.run": _("Conformité calculée"),
    "compliance.failed": _("Calcul de conformité échoué"),
    "compensation.recorded": _("Entrées de compensation enregistrées"),
    # exports and e-mails
    "export.audit": _("Export du journal d'audit"),
    "export.board": _("Export du contrôle du jour"),
    "export.consigne": _("Téléchargement d'une consigne"),
    "export.statement": _("Téléchargement d'un relevé"),
    "address.confirmation": _("Confirmation d'une adresse e-mail"),
    "test": _("Test"),
}


def label(code: str) -> str:
    """The words for ``code`` (an audit action or an outbox event) in the active language, else the code."""
    found = LABELS.get(code)
    return str(found) if found is not None else code
