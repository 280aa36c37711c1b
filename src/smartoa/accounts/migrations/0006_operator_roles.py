"""The operator roles' groups and permissions (a frozen copy of ``accounts/roles.py`` as of this migration; later
changes of that table reach the groups through ``sync_groups`` after each ``migrate``), and a role for the staff
accounts that existed before roles: Administrateur for superusers, Opérateur for the others (what they could do
before, bar the administration of operators)."""

from django.db import migrations

PERMISSIONS = {
    "view_backoffice": "Voir le back-office, l'administration et les exports",
    "publish_consignes": "Publier et modifier les consignes",
    "set_hlar": "Fixer l'HLAR (heure limite d'accès au réseau)",
    "manage_contracts": "Gérer les contrats et les comptes des producteurs",
    "load_curves": "Importer les courbes de production",
    "run_compliance": "Lancer le contrôle de conformité et saisir les compensations",
    "manage_operators": "Gérer les comptes des opérateurs et leurs rôles",
    "reset_second_factor": "Réinitialiser la double authentification d'un compte",
}
READ = ["view_backoffice"]
OPERATE = [*READ, "publish_consignes", "set_hlar", "manage_contracts", "load_curves", "run_compliance"]
ROLES = {"Lecture": READ, "Opérateur": OPERATE, "Administrateur": [*OPERATE, "manage_operators", "reset_second_factor"]}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("accounts", "User")
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    permissions = {
        codename: Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSIONS.items()
    }
    groups = {}
    for name, codenames in ROLES.items():
        groups[name], _ = Group.objects.get_or_create(name=name)
        groups[name].permissions.set([permissions[codename] for codename in codenames])
    for user in User.objects.filter(is_staff=True).exclude(groups__name__in=list(ROLES)):
        user.groups.add(groups["Administrateur" if user.is_superuser else "Opérateur"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_french_field_labels"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
