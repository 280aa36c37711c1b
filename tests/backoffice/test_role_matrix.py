"""The role matrix: every back-office and admin URL, requested through the test client by five visitors —
someone not signed in, a producer, and an operator in each role (Lecture, Opérateur, Administrateur), all past
the two-step login — answers as its row says, for GET and for POST.

The URLs are read from the URL configuration, not listed by hand: every pattern of ``smartoa.backoffice.urls``,
every admin operation of every model, the admin's generic pages of every model and the admin site's own pages.
A URL without a row fails ``test_every_url_has_a_row`` and is not requested until it has one.

**Adding a page or an operation** (what the failure asks of you):

1. give it its permission (``core/permissions.py``; the roles that hold it are in the same file): a ``StaffView``
   names ``permission`` (to post) and, if not every role may look, ``read_permission``; a function view is
   ``@staff_required(permission=...)``; an admin ``Operation`` names ``permission``;
2. add its row to ``ROWS`` under the URL's name — ``"backoffice:<name>"`` for a back-office page,
   ``"admin:<app>.<model>:<operation>"`` for an operation: the answers to GET then to POST, one per visitor in
   the order anonymous, producer, Lecture, Opérateur, Administrateur (the usual rows are named below:
   ``READ_ONLY``, ``WRITES_FROM_OPERATEUR``…);
3. if its URL takes an argument not in ``ARGS``, add a value that exists in the ``visitors`` fixture's data (or,
   for this URL only, in ``ARGS_FOR``).

The answers: ``LOGIN`` (sent to the login page), ``NOT_OPERATOR`` (the back office's 403 page for an account that
is not an operator's), ``ROLE`` (the 403 page naming the role needed), ``OK`` (served: 200, a redirection that is
not to a login page, or 400 for the empty form posted), ``NO_POST`` (405: the page writes nothing), ``DENIED``
(403 whatever the page: the admin's generic writes), ``ADMIN_LOGIN`` (the admin sends a non-operator to its
login), ``NOT_FOUND`` (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from smartoa.accounts.models import User
from smartoa.accounts.roles import ROLES, role_of
from smartoa.backoffice import urls as backoffice_urls
from smartoa.billing.requests import request_run
from smartoa.billing.services import run_compliance
from smartoa.core.admin import ReadOnlyAdmin
from tests.factories import add_account, make_consigne, make_contract, signed_in

VISITORS = ("anonymous", "producer", "lecture", "operateur", "administrateur")

LOGIN, NOT_OPERATOR, ROLE, OK, NO_POST, DENIED, ADMIN_LOGIN, NOT_FOUND = (
    "login",
    "not an operator",
    "role needed",
    "ok",
    "405",
    "403",
    "admin login",
    "404",
)


@dataclass(frozen=True)
class Row:
    get: tuple[str, str, str, str, str]
    post: tuple[str, str, str, str, str] | None  # None: not posted (the admin site's own pages)


def row(get: tuple[str, ...], post: tuple[str, ...] | None) -> Row:
    assert len(get) == len(VISITORS) and (post is None or len(post) == len(VISITORS))
    return Row(get, post)  # type: ignore[arg-type]


# The usual rows.                     anonymous  producer      Lecture  Opérateur  Administrateur
SEEN_BY_ALL = (LOGIN, NOT_OPERATOR, OK, OK, OK)
READ_ONLY = row(SEEN_BY_ALL, (LOGIN, NOT_OPERATOR, NO_POST, NO_POST, NO_POST))
WRITES_FROM_OPERATEUR = row(SEEN_BY_ALL, (LOGIN, NOT_OPERATOR, ROLE, OK, OK))
WRITES_FROM_ADMINISTRATEUR = row(SEEN_BY_ALL, (LOGIN, NOT_OPERATOR, ROLE, ROLE, OK))
ADMINISTRATEUR_ONLY = row((LOGIN, NOT_OPERATOR, ROLE, ROLE, OK), (LOGIN, NOT_OPERATOR, ROLE, ROLE, OK))
# The admin: a producer is sent to the admin's login (the portal's); an operation answers like a page.
ADMIN_SEEN = (LOGIN, ADMIN_LOGIN, OK, OK, OK)
ADMIN_OPERATION_OPERATEUR = row(
    (LOGIN, ADMIN_LOGIN, ROLE, OK, OK),
    (LOGIN, ADMIN_LOGIN, ROLE, OK, OK),
)
ADMIN_OPERATION_ADMINISTRATEUR = row(
    (LOGIN, ADMIN_LOGIN, ROLE, ROLE, OK),
    (LOGIN, ADMIN_LOGIN, ROLE, ROLE, OK),
)

ROWS: dict[str, Row] = {
    # --- the back office ------------------------------------------------------------------------------------
    "backoffice:control": READ_ONLY,
    "backoffice:publication": WRITES_FROM_OPERATEUR,
    "backoffice:publication-preview": READ_ONLY,
    "backoffice:publish": WRITES_FROM_OPERATEUR,
    "backoffice:modify": WRITES_FROM_OPERATEUR,
    "backoffice:hlar": WRITES_FROM_OPERATEUR,
    "backoffice:contracts": READ_ONLY,
    "backoffice:contracts-import": WRITES_FROM_OPERATEUR,
    "backoffice:contracts-import-preview": READ_ONLY,
    "backoffice:contracts-import-confirm": WRITES_FROM_OPERATEUR,
    "backoffice:contract": WRITES_FROM_OPERATEUR,
    "backoffice:contract-new": WRITES_FROM_OPERATEUR,
    "backoffice:contract-edit": WRITES_FROM_OPERATEUR,
    "backoffice:contract-active": WRITES_FROM_OPERATEUR,
    "backoffice:accounts": READ_ONLY,
    "backoffice:account-new": WRITES_FROM_OPERATEUR,
    "backoffice:reset-totp": WRITES_FROM_ADMINISTRATEUR,
    "backoffice:account-role": ADMINISTRATEUR_ONLY,
    "backoffice:audit": READ_ONLY,
    "backoffice:curve-upload": WRITES_FROM_OPERATEUR,
    "backoffice:contract-curve": READ_ONLY,
    "backoffice:contract-statement": READ_ONLY,
    "backoffice:compliance": READ_ONLY,
    "backoffice:compliance-run": WRITES_FROM_OPERATEUR,
    "backoffice:compliance-request": READ_ONLY,
    "backoffice:compliance-progress": READ_ONLY,
    "backoffice:compliance-month": READ_ONLY,
    "backoffice:compliance-statement": READ_ONLY,
    "backoffice:consignes-file": WRITES_FROM_OPERATEUR,
    "backoffice:consignes-file-preview": READ_ONLY,
    "backoffice:consignes-file-publish": WRITES_FROM_OPERATEUR,
    "backoffice:consigne-choose": READ_ONLY,
    "backoffice:consigne-change": WRITES_FROM_OPERATEUR,
    # --- the admin's operations -------------------------------------------------------------------------------
    "admin:accounts.user:create": ADMIN_OPERATION_OPERATEUR,
    "admin:accounts.user:set-active": ADMIN_OPERATION_OPERATEUR,
    "admin:accounts.user:reset-totp": ADMIN_OPERATION_ADMINISTRATEUR,
    "admin:billing.compliancerun:run": ADMIN_OPERATION_OPERATEUR,
    "admin:billing.compensationinput:record": ADMIN_OPERATION_OPERATEUR,
    "admin:consignes.consigne:publish": ADMIN_OPERATION_OPERATEUR,
    "admin:consignes.consigne:modify": ADMIN_OPERATION_OPERATEUR,
    "admin:consignes.hlaroverride:set": ADMIN_OPERATION_OPERATEUR,
    "admin:contracts.contract:import": ADMIN_OPERATION_OPERATEUR,
    "admin:contracts.contract:add-ips": ADMIN_OPERATION_OPERATEUR,
    "admin:contracts.contract:remove-ips": ADMIN_OPERATION_OPERATEUR,
    "admin:contracts.contract:issue-token": ADMIN_OPERATION_OPERATEUR,
    "admin:contracts.contract:revoke-token": ADMIN_OPERATION_OPERATEUR,
    "admin:contracts.contract:change-manager": ADMIN_OPERATION_OPERATEUR,
    "admin:contracts.contract:set-active": ADMIN_OPERATION_OPERATEUR,
    "admin:contracts.eligibilityrule:add-rule": ADMIN_OPERATION_OPERATEUR,
    # --- the admin's generic pages of every model (read-only for everyone: ``core/admin.py``) -------------------
    "admin:<model>_changelist": row(ADMIN_SEEN, None),
    "admin:<model>_change": row(ADMIN_SEEN, (LOGIN, ADMIN_LOGIN, DENIED, DENIED, DENIED)),
    "admin:<model>_add": row(
        (LOGIN, ADMIN_LOGIN, DENIED, DENIED, DENIED), (LOGIN, ADMIN_LOGIN, DENIED, DENIED, DENIED)
    ),
    "admin:<model>_delete": row(
        (LOGIN, ADMIN_LOGIN, DENIED, DENIED, DENIED), (LOGIN, ADMIN_LOGIN, DENIED, DENIED, DENIED)
    ),
    "admin:<model>_history": row(ADMIN_SEEN, None),
    # --- the admin site's own pages -----------------------------------------------------------------------------
    "admin:index": row(ADMIN_SEEN, None),
    "admin:app_list": row(ADMIN_SEEN, None),
    "admin:login": row((LOGIN, LOGIN, LOGIN, LOGIN, LOGIN), None),  # the portal's login (smartoa/urls.py)
    "admin:logout": row((LOGIN, OK, OK, OK, OK), None),  # the portal's logout
    # The account's page (smartoa/urls.py): a password changes there, checked and audited, for everyone.
    "admin:password_change": row((LOGIN, OK, OK, OK, OK), None),
    "admin:password_change_done": row((LOGIN, OK, OK, OK, OK), None),
    "admin:jsi18n": row((LOGIN, ADMIN_LOGIN, OK, OK, OK), None),
    "admin:autocomplete": row((LOGIN, ADMIN_LOGIN, DENIED, DENIED, DENIED), None),
    "admin:view_on_site": row((LOGIN, ADMIN_LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND), None),  # no model has a page
}

# The values of the URLs' arguments: text, or "@name", the pk of an object of the ``visitors`` fixture.
ARGS = {
    "contract_id": "BOA00001",
    "pk": "@operator",  # an operator's account (Lecture)
    "month": "2026-11",
    "fmt": "json",
    "day": "2026-11-02",
    "app_label": "accounts",
    "content_type_id": "1",
    "object_id": "",  # the model's first object (or 0 when it has none)
}
# Where a URL's argument names something else than ARGS says.
ARGS_FOR = {
    "backoffice:compliance-request": {"pk": "@compliance request"},
    "backoffice:compliance-progress": {"pk": "@compliance request"},
}


@dataclass(frozen=True)
class Target:
    """One URL to request: its row's key and how to build its path."""

    key: str
    name: str
    kwargs: tuple[str, ...] = ()
    model: type | None = None
    fixed: tuple[tuple[str, str], ...] = ()

    def path(self, objects: dict) -> str:
        values = dict(self.fixed)
        for kwarg in self.kwargs:
            if kwarg in values:
                continue
            value = ARGS_FOR.get(self.name, {}).get(kwarg, ARGS[kwarg])
            if kwarg == "object_id":
                first = self.model._default_manager.order_by("pk").first() if self.model else None
                value = str(first.pk if first else 0)
            elif value.startswith("@"):
                value = str(objects[value[1:]].pk)
            values[kwarg] = value
        return reverse(self.name, kwargs=values)


def walk(patterns, prefix: str = ""):
    """(name, argument names) of every named pattern under ``patterns``, includes followed."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, tuple(pattern.pattern.regex.groupindex)


def targets() -> list[Target]:
    """Every back-office and admin URL, read from the URL configuration."""
    found = [
        Target(f"backoffice:{name}", f"backoffice:{name}", kwargs) for name, kwargs in walk(backoffice_urls.urlpatterns)
    ]
    models = {}
    for model, model_admin in admin.site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        models[info] = model
        for operation in getattr(model_admin, "operations", ()):
            url = f"admin:{info}_object_operation" if operation.on_object else f"admin:{info}_operation"
            kwargs = ("object_id", "name") if operation.on_object else ("name",)
            key = f"admin:{model._meta.label_lower}:{operation.name}"
            found.append(Target(key, url, kwargs, model, (("name", operation.name),)))
    for name, kwargs in walk(admin.site.get_urls()):
        if name.endswith(("_operation", "_object_operation")):
            continue  # one target per operation, above
        model_info = next((info for info in models if name.startswith(f"{info}_")), None)
        if model_info is not None:
            generic = f"admin:<model>{name[len(model_info) :]}"
            found.append(Target(generic, f"admin:{name}", kwargs, models[model_info]))
        else:
            found.append(Target(f"admin:{name}", f"admin:{name}", kwargs))
    return found


TARGETS = targets()


def test_every_url_has_a_row():
    missing = sorted({t.key for t in TARGETS} - set(ROWS))
    assert not missing, (
        f"These URLs have no row in the role matrix: {missing}. Add one to ROWS in {__file__} "
        "(see the module's docstring: the answers to GET and POST for anonymous, producer, Lecture, Opérateur "
        "and Administrateur), after giving the view or operation its permission."
    )
    stale = sorted(set(ROWS) - {t.key for t in TARGETS})
    assert not stale, f"These rows name no URL any more: {stale}. Remove them from ROWS."


def test_every_admin_is_read_only():
    """The generic rows hold for every model because every model admin is a ``ReadOnlyAdmin``."""
    assert [m for m, a in admin.site._registry.items() if not isinstance(a, ReadOnlyAdmin)] == []


@pytest.fixture
def visitors(db):
    """A test client per visitor, signed in past both steps (but the anonymous one), and the target account."""
    make_consigne(make_contract("BOA00001"), date(2026, 11, 2))
    run_compliance(date(2026, 11, 1), actor="test")  # the month of the statement's URL
    objects = {"compliance request": request_run(date(2026, 11, 1), actor="test", queue=False)}
    producer = add_account(make_contract("BOA00002"), "producer@example.org")
    clients = {"anonymous": Client()}
    producer_client = Client()
    signed_in(producer_client, producer)
    clients["producer"] = producer_client
    for role in ROLES:
        user = User.objects.create_user(f"{role.key}@example.org", is_staff=True)
        user.groups.add(Group.objects.get(name=role.group))
        assert role_of(user) == role
        clients[role.key] = Client()
        signed_in(clients[role.key], user)
    objects["operator"] = User.objects.create_user("target@example.org", is_staff=True)
    objects["operator"].groups.add(Group.objects.get(name=ROLES[0].group))
    return clients, objects


def answer(response) -> str:
    """What kind of answer ``response`` is."""
    status, location = response.status_code, response.get("Location", "")
    body = response.content.decode(errors="replace") if status == 403 else ""
    if status == 302 and location.startswith("/connexion/"):
        return LOGIN
    if status == 302 and location.startswith("/admin/login/"):
        return ADMIN_LOGIN
    if status == 403 and "Page réservée aux opérateurs" in body:
        return NOT_OPERATOR
    if status == 403 and "Rôle insuffisant" in body:
        return ROLE
    if status == 403:
        return DENIED
    if status == 405:
        return NO_POST
    if status == 404:
        return NOT_FOUND
    if status in (200, 302, 400):
        return OK
    return f"status {status}"


@pytest.mark.parametrize("target", [t for t in TARGETS if t.key in ROWS], ids=lambda t: f"{t.name}")
def test_each_visitor_gets_the_answer_of_the_row(visitors, target):
    clients, objects = visitors
    expected = ROWS[target.key]
    path = target.path(objects)
    got, wanted = {}, {}
    for method, answers in (("GET", expected.get), ("POST", expected.post)):
        if answers is None:
            continue
        for visitor, answer_wanted in zip(VISITORS, answers, strict=True):
            client = clients[visitor]
            response = client.get(path) if method == "GET" else client.post(path, {})
            got[method, visitor] = answer(response)
            wanted[method, visitor] = answer_wanted
            if got[method, visitor] == ROLE == answer_wanted:  # the page names the least role that may
                needed = next(role for role, said in zip(ROLES, answers[2:], strict=True) if said == OK)
                assert f"<strong>{needed.label}</strong>" in response.content.decode(), (path, method, visitor)
    assert got == wanted, f"{path}: {[(k, got[k], wanted[k]) for k in got if got[k] != wanted[k]]}"
