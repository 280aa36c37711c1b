"""The operator's command line: ``smartoa help`` lists the platform's commands only, grouped, one line each, and
answers without production settings (as does ``smartoa COMMAND --help``, its own options first, Django's hidden);
the destructive and unaudited built-ins are refused in production; ``smartoa operators`` creates an operator in a
role (audited as ``cli:<system user>``, its login e-mailed through SMTP), changes a role and lists them.

Each command runs as a real ``smartoa`` process (``tests/subprocess_env.py``)."""

from __future__ import annotations

import getpass

import pytest

from smartoa.accounts.models import User
from smartoa.accounts.roles import LECTURE, OPERATEUR, role_of
from smartoa.audit.models import AuditEvent
from smartoa.cli import GROUPS, REFUSED_IN_PRODUCTION
from tests.factories import deliver_outbox
from tests.notifications.test_smtp import SmtpServer
from tests.subprocess_env import smartoa

# Production as an operator's shell has it, minus the secret key and hosts: help must not need them.
BARE_PRODUCTION = {"SMARTOA_ENV": "production", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
PRODUCTION = {"SMARTOA_ENV": "production", "SMARTOA_SECRET_KEY": "k" * 40, "SMARTOA_ALLOWED_HOSTS": "x.example"}
BUILT_INS = ("flush", "sqlflush", "loaddata", "createsuperuser", "shell", "dbshell", "runserver", "dumpdata")
ACTOR = f"cli:{getpass.getuser()}"


def command_lines(text: str) -> dict[str, str]:
    """name → its line, from the help's command lines (two spaces, a name, its description)."""
    found = {}
    for line in text.splitlines():
        if line.startswith("  ") and line.strip():
            name, _, description = line.strip().partition(" ")
            found[name] = description.strip()
    return found


@pytest.mark.parametrize("args", [(), ("help",), ("--help",), ("-h",)])
def test_help_lists_the_platform_commands_by_group_without_production_settings(args):
    result = smartoa(*args, **BARE_PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = command_lines(result.stdout)
    assert set(lines) == {name for names in GROUPS.values() for name in names}  # no "Other" group
    assert all(lines.values()), lines  # one line each
    for group in GROUPS:
        assert f"\n{group}:\n" in result.stdout
    for hidden in BUILT_INS:
        assert hidden not in lines
    assert "Other:" not in result.stdout and "[django]" not in result.stdout


def test_a_command_help_shows_its_own_options_and_hides_django_s():
    result = smartoa("operators", "create", "--help", **BARE_PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "--role ROLE" in result.stdout and "lecture, operateur, administrateur" in result.stdout
    for generic in ("--settings", "--pythonpath", "--traceback", "--verbosity", "--no-color", "--skip-checks"):
        assert generic not in result.stdout
    top = smartoa("consignes", "--help", **BARE_PRODUCTION)
    assert top.returncode == 0 and "--settings" not in top.stdout and "publish" in top.stdout


@pytest.mark.parametrize(
    "name", sorted(set(REFUSED_IN_PRODUCTION) & {"flush", "sqlflush", "loaddata", "createsuperuser"})
)
def test_destructive_built_ins_are_refused_in_production(name):
    result = smartoa(name, "--noinput", **PRODUCTION)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"'{name}' is refused in production" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.django_db(transaction=True)
def test_flush_is_refused_in_production_and_changes_nothing():
    User.objects.create_user("keep@example.org")
    result = smartoa("flush", "--noinput", **PRODUCTION)
    assert result.returncode == 2 and "it erases every table" in result.stderr
    assert User.objects.filter(email="keep@example.org").exists()
    assert smartoa("sqlflush").returncode == 0  # the test environment keeps them


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_operators_create_role_and_list(smtp):
    created = smartoa("operators", "create", "Chef@Example.org", "--role", "operateur", "--name", "Chef")
    assert created.returncode == 0, created.stderr
    assert "chef@example.org: operator account created (Opérateur)" in created.stdout
    user = User.objects.get(email="chef@example.org")
    assert user.is_staff and role_of(user) == OPERATEUR and user.must_change_password and user.full_name == "Chef"
    event = AuditEvent.objects.get(action="account.created", user=user)
    assert event.actor == ACTOR and event.details == {"staff": True, "role": "operateur"}
    # The first-connection e-mail, like any new account's, through a real SMTP server.
    assert deliver_outbox() == {"delivered": 1}
    [(to, message)] = smtp.mailbox.messages
    assert to == ["chef@example.org"] and "Mot de passe provisoire" in smtp.mailbox.body(message)

    changed = smartoa("operators", "role", "chef@example.org", "lecture", "--reason", "stagiaire")
    assert changed.returncode == 0 and "role set to Lecture" in changed.stdout, changed.stderr
    assert role_of(User.objects.get(pk=user.pk)) == LECTURE
    event = AuditEvent.objects.get(action="account.role_changed")
    assert (event.actor, event.user_id) == (ACTOR, user.pk)
    assert event.details == {"role": "lecture", "previous": "operateur", "reason": "stagiaire"}

    listed = smartoa("operators", "list")
    assert listed.returncode == 0 and "chef@example.org\tLecture\tfirst login to do" in listed.stdout


@pytest.mark.django_db(transaction=True)
def test_operators_refusals_change_nothing():
    unknown_role = smartoa("operators", "create", "x@example.org", "--role", "superuser")
    assert unknown_role.returncode == 1 and "unknown role superuser" in unknown_role.stderr
    assert "lecture, operateur, administrateur" in unknown_role.stderr
    missing_role = smartoa("operators", "create", "x@example.org")
    assert missing_role.returncode == 2 and "--role" in missing_role.stderr
    bad_email = smartoa("operators", "create", "not-an-address", "--role", "lecture")
    assert bad_email.returncode == 1 and "Traceback" not in bad_email.stderr
    User.objects.create_user("producer@example.org")
    producer = smartoa("operators", "role", "producer@example.org", "administrateur")
    assert producer.returncode == 1 and "no operator account producer@example.org" in producer.stderr
    assert not User.objects.filter(is_staff=True).exists() and not AuditEvent.objects.exists()
    # The last administrator keeps the role until another one has it.
    assert smartoa("operators", "create", "boss@example.org", "--role", "administrateur").returncode == 0
    last = smartoa("operators", "role", "boss@example.org", "lecture")
    assert last.returncode == 1 and "last administrator" in last.stderr
    assert role_of(User.objects.get(email="boss@example.org")).key == "administrateur"
