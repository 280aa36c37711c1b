"""One rule, one owner, every door: each operator action run through each door for the same cases gets the same
answer and leaves the same audit record.

The test is generated from three tables. ``DOORS``: how each door (the services themselves, the command line, the
admin's operations, the back office) runs each action and shows a refusal. ``ACTIONS`` × ``CASES``: ``EXPECTED``
says, for each pair that applies, the outcome every door must give — accepted (None) or refused with an error
code. A refused action changes nothing; an accepted one is audited with the door's actor and address, and
``forced`` with the reason when it was forced. A newcomer adds a door (a row of ``DOORS``), an action or a case
(a row of ``EXPECTED``) and gets every combination tested.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse
from django.utils.html import escape

from smartoa.audit.models import AuditEvent
from smartoa.consignes.deadlines import set_hlar
from smartoa.consignes.generation import parse_exclusions, plan_generation, publish_plan
from smartoa.consignes.models import Consigne, ConsigneVersion, HlarOverride
from smartoa.consignes.rules import forced
from smartoa.consignes.services import load_documents, modify, publish
from smartoa.contracts.models import Contract
from smartoa.contracts.services import set_active
from smartoa.core.formats import error_text
from smartoa.core.management.base import CLI_ACTOR
from smartoa.domain.calendar import STEP_15, iso, steps
from smartoa.domain.errors import UserError
from tests.factories import PUBLIC_IP, as_json, make_operator, paris, publish_day, stop_periods
from tests.subprocess_env import smartoa

DAY = date(2026, 11, 25)  # HLAR 24/11/2026 16:30, changes and publication until 16:00
ON_TIME, LATE, AFTER_HLAR = paris("2026-11-24", "12:00"), paris("2026-11-24", "16:10"), paris("2026-11-24", "16:40")
REASON = "RTE a demandé la publication par téléphone"
OPERATOR = "ops@example.org"


# --- what is asked: one action, its contract, whether it is forced ---------------------------------------------


@dataclass
class Request:
    action: str
    tmp: Path
    contract_id: str = "BOA00001"
    exclude: str = ""  # the prices path names a contract only to leave it out
    force: bool = False
    hlar: str = "18:00"  # the HLAR asked for (set HLAR)
    confirm_earlier: bool = False

    @property
    def reason(self) -> str | None:
        return REASON if self.force else None

    def documents(self, start: str = "12:00") -> str:
        return json.dumps(as_json(self.contract_id, DAY, stop_periods(DAY, start, "18:00")))

    def prices(self) -> str:
        rows = [f"{iso(m)},{-5 if 48 <= n < 72 else 40}" for n, m in enumerate(steps(DAY, STEP_15))]
        return "start,price\n" + "\n".join(rows) + "\n"

    def file(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.write_text(text)
        return str(path)


# --- the cases: the state of the world and the request -----------------------------------------------------------


def on_time(settings, request: Request):
    settings.SMARTOA_NOW = ON_TIME


def late(settings, request: Request):
    """Past the day's change deadline; for the HLAR, past the HLAR itself (until then postponing is free)."""
    settings.SMARTOA_NOW = AFTER_HLAR if request.action == "set HLAR" else LATE


def forced_late(settings, request: Request):
    late(settings, request)
    request.force = True


def inactive(settings, request: Request):
    settings.SMARTOA_NOW = ON_TIME
    with transaction.atomic():
        set_active(Contract.objects.get(contract_id="BOA00001"), False, actor="test")


def unknown(settings, request: Request):
    settings.SMARTOA_NOW = ON_TIME
    request.contract_id = request.exclude = "BOAUNKNOWN"


def earlier(settings, request: Request):
    settings.SMARTOA_NOW = ON_TIME
    request.hlar = "15:00"


def earlier_confirmed(settings, request: Request):
    earlier(settings, request)
    request.confirm_earlier = True


def too_soon(settings, request: Request):
    earlier_confirmed(settings, request)
    request.force = True
    settings.SMARTOA_NOW = paris("2026-11-24", "14:45")  # 15:00 leaves 15 minutes: never, even forced


CASES: dict[str, Callable] = {
    "on time": on_time,
    "late": late,
    "forced with a reason": forced_late,
    "inactive contract": inactive,
    "unknown contract": unknown,
    "HLAR earlier, not confirmed": earlier,
    "HLAR earlier, confirmed": earlier_confirmed,
    "HLAR earlier, too soon": too_soon,
}

# What every door must answer: None (accepted) or the refusal's code. A pair left out does not apply.
EXPECTED: dict[tuple[str, str], str | None] = {
    ("publish documents", "on time"): None,
    ("publish documents", "late"): "deadline_passed",
    ("publish documents", "forced with a reason"): None,
    ("publish documents", "inactive contract"): "contract_inactive",
    ("publish documents", "unknown contract"): "invalid_input",  # the file names it: a bad file
    ("publish from prices", "on time"): None,
    ("publish from prices", "late"): "deadline_passed",
    ("publish from prices", "forced with a reason"): None,
    ("publish from prices", "inactive contract"): "invalid_input",  # the plan leaves it out: nothing to publish
    ("publish from prices", "unknown contract"): "not_found",  # named among the exclusions
    ("modify", "on time"): None,
    ("modify", "late"): "deadline_passed",
    ("modify", "forced with a reason"): None,
    ("modify", "inactive contract"): "contract_inactive",
    ("modify", "unknown contract"): "invalid_input",
    ("set HLAR", "on time"): None,
    ("set HLAR", "late"): "deadline_passed",
    ("set HLAR", "forced with a reason"): None,
    ("set HLAR", "HLAR earlier, not confirmed"): "confirmation_required",
    ("set HLAR", "HLAR earlier, confirmed"): None,
    ("set HLAR", "HLAR earlier, too soon"): "notice_too_short",
}
AUDITED = {
    "publish documents": "consigne.published",
    "publish from prices": "consigne.published",
    "modify": "consigne.modified",
    "set HLAR": "hlar.set",
}


# --- the doors ------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    accepted: bool
    text: str = ""  # how the door showed the refusal


def serve(action: str, r: Request) -> None:
    """The action through the services (a UserError when refused)."""
    force = forced(r.force, r.reason)
    with transaction.atomic():
        if action == "publish documents":
            publish(load_documents(r.documents()), actor=OPERATOR, force=force)
        elif action == "publish from prices":
            plan = plan_generation(r.prices(), DAY, exclude=parse_exclusions(r.exclude))
            publish_plan(plan, actor=OPERATOR, force=force)
        elif action == "modify":
            modify(
                load_documents(r.documents("13:00"), action="changed"), reason="incident", actor=OPERATOR, force=force
            )
        else:
            at = time.fromisoformat(r.hlar)
            set_hlar(DAY, at, actor=OPERATOR, confirm_earlier=r.confirm_earlier, force=force)


def by_service(action: str, r: Request, client) -> Outcome:
    try:
        serve(action, r)
    except UserError as exc:
        return Outcome(False, str(exc))
    return Outcome(True)


def force_args(r: Request, *, reason: bool = True) -> list[str]:
    return (["--force"] + (["--reason", REASON] if reason else [])) if r.force else []


def by_command_line(action: str, r: Request, client) -> Outcome:
    if action == "publish documents":
        args = ["consignes", "publish", r.file("c.json", r.documents()), *force_args(r)]
    elif action == "publish from prices":
        prices = r.file("prices.csv", r.prices())
        args = ["consignes", "generate", "--prices", prices, "--day", DAY.isoformat(), "--publish", *force_args(r)]
        args += ["--exclude", r.exclude] if r.exclude else []
    elif action == "modify":
        reason = REASON if r.force else "incident"
        args = ["consignes", "modify", r.file("m.json", r.documents("13:00")), "--reason", reason]
        args += ["--force"] if r.force else []
    else:
        args = ["hlar", "set", "--day", DAY.isoformat(), "--time", r.hlar, *force_args(r)]
        args += ["--confirm-earlier"] if r.confirm_earlier else []
    try:
        call_command(*args)
    except CommandError as exc:  # what the operator reads on standard error (exit status 1)
        return Outcome(False, str(exc))
    return Outcome(True)


def by_admin(action: str, r: Request, client) -> Outcome | None:
    upload = SimpleUploadedFile("c.json", r.documents("13:00" if action == "modify" else "12:00").encode())
    force = {"force": "on", "reason": REASON} if r.force else {}
    if action == "publish documents":
        url, data = reverse("admin:consignes_consigne_operation", args=["publish"]), {"file": upload, **force}
    elif action == "modify":
        reason = REASON if r.force else "incident"
        url, data = reverse("admin:consignes_consigne_operation", args=["modify"]), {"file": upload, **force}
        data["reason"] = reason
    elif action == "set HLAR":
        url = reverse("admin:consignes_hlaroverride_operation", args=["set"])
        data = {"day": DAY.isoformat(), "time": r.hlar, **force}
        data |= {"confirm_earlier": "on"} if r.confirm_earlier else {}
    else:
        return None  # the admin has no publication from prices
    response = client.post(url, data, HTTP_X_FORWARDED_FOR=PUBLIC_IP)
    assert response.status_code in (302, 400), response.status_code
    return Outcome(response.status_code == 302, response.content.decode())


def by_back_office(action: str, r: Request, client) -> Outcome | None:
    force = {"force": "on", "reason": REASON} if r.force else {}
    headers = {"HTTP_X_FORWARDED_FOR": PUBLIC_IP}
    if action == "publish from prices":
        prices = SimpleUploadedFile("prices.csv", r.prices().encode())
        data = {"day": DAY.isoformat(), "prices": prices, "exclude": r.exclude}
        step1 = client.post(reverse("backoffice:publication"), data, **headers)
        if step1.status_code == 400:
            return Outcome(False, step1.content.decode())
        preview = client.get(step1["Location"])
        fingerprint = preview.context["plan"].fingerprint()
        query = preview.wsgi_request.GET
        data = {"day": query["day"], "prices": query["prices"], "exclude": query["exclude"], "fingerprint": fingerprint}
        response = client.post(reverse("backoffice:publish"), {**data, **force}, **headers)
    elif action == "modify":
        upload = SimpleUploadedFile("m.json", r.documents("13:00").encode())
        data = {"file": upload, "reason": REASON if r.force else "incident", **({"force": "on"} if r.force else {})}
        response = client.post(reverse("backoffice:modify"), data, **headers)
    elif action == "set HLAR":
        data = {"day": DAY.isoformat(), "time": r.hlar, **force}
        data |= {"confirm_earlier": "on"} if r.confirm_earlier else {}
        response = client.post(reverse("backoffice:hlar"), data, **headers)
        if response.status_code == 200 and "confirmation" in response.context:  # the confirmation step
            return Outcome(False, response.content.decode())
    else:  # publish documents: the consignes file, its preview, then the confirmation
        upload = SimpleUploadedFile("c.json", r.documents().encode())
        step1 = client.post(reverse("backoffice:consignes-file"), {"file": upload, "exclude": ""}, **headers)
        if step1.status_code == 400:
            return Outcome(False, step1.content.decode())
        preview = client.get(step1["Location"])
        query = preview.wsgi_request.GET
        fingerprint = preview.context["plan"].fingerprint()
        data = {"file": query["file"], "exclude": query["exclude"], "fingerprint": fingerprint}
        response = client.post(reverse("backoffice:consignes-file-publish"), {**data, **force}, **headers)
    assert response.status_code in (302, 400), response.status_code
    return Outcome(response.status_code == 302, response.content.decode())


@dataclass(frozen=True)
class Door:
    name: str
    run: Callable[[str, Request, object], Outcome | None]
    shows: Callable[[UserError], str]  # a refusal as this door writes it
    actor: str  # who the audit log says acted
    ip: str | None  # the address it records


DOORS = [
    Door("service", by_service, str, OPERATOR, None),
    Door("command line", by_command_line, str, CLI_ACTOR, None),
    Door("admin operation", by_admin, lambda exc: escape(error_text(exc)), OPERATOR, PUBLIC_IP),
    Door("back office", by_back_office, lambda exc: escape(error_text(exc)), OPERATOR, PUBLIC_IP),
]


# --- the test -------------------------------------------------------------------------------------------------


@pytest.fixture
def world(db, client, settings, make_contract, tmp_path):
    """BOA00001 (eligible, and a consigne for DAY when the action is a modification), the operator signed in on
    ``client`` behind the trusted proxy."""
    settings.SMARTOA_TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    settings.SMARTOA_NOW = ON_TIME
    make_contract("BOA00001")
    make_operator(client, OPERATOR, is_superuser=True)
    return tmp_path


def snapshot() -> tuple:
    versions = list(ConsigneVersion.objects.order_by("pk").values_list("pk", "number", "periods"))
    hlars = list(HlarOverride.objects.values_list("delivery_day", "hlar_at"))
    return Consigne.objects.count(), versions, hlars, AuditEvent.objects.count()


def reference(action: str, r: Request) -> UserError | None:
    """The services' own answer, rolled back: what every door must say."""

    class Undo(Exception):
        pass

    try:
        with transaction.atomic():
            serve(action, r)
            raise Undo
    except UserError as exc:
        return exc
    except Undo:
        return None


@pytest.mark.parametrize("door", DOORS, ids=lambda d: d.name)
@pytest.mark.parametrize(("action", "case"), list(EXPECTED), ids=lambda v: v.replace(" ", "-"))
def test_every_door_gives_the_same_answer_and_audit(world, client, settings, door, action, case):
    if action == "modify":
        publish_day(Contract.objects.get(contract_id="BOA00001"), DAY, force=None)  # on time
    request = Request(action, world)
    CASES[case](settings, request)
    expected = EXPECTED[(action, case)]
    answer = reference(action, request)
    assert (answer.code if answer else None) == expected, answer
    before = snapshot()

    outcome = door.run(action, request, client)
    if outcome is None:
        pytest.skip(f"{door.name} offers no {action}")

    if expected is not None:
        assert not outcome.accepted, f"{door.name} accepted what the services refuse ({expected})"
        assert door.shows(answer) in outcome.text
        assert snapshot() == before, "a refused action changed data"
        return
    assert outcome.accepted, outcome.text[:2000]
    event = AuditEvent.objects.filter(action=AUDITED[action]).latest("pk")
    assert (event.actor, event.ip) == (door.actor, door.ip)
    assert event.details["forced"] is request.force
    assert event.details.get("force_reason") == request.reason


# --- the real command line: a refusal is a clear message and a non-zero exit ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_command_refuses_a_late_publication_and_accepts_it_forced_with_a_reason(make_contract, tmp_path):
    make_contract("BOA00001")
    request = Request("publish documents", tmp_path)
    path = request.file("c.json", request.documents())
    late = smartoa("consignes", "publish", path, SMARTOA_NOW=LATE.isoformat())
    assert late.returncode == 1 and late.stdout == ""
    assert "2026-11-25: publication and changes closed at 2026-11-24T16:00:00+01:00" in late.stderr
    assert "force it with a reason" in late.stderr and "Traceback" not in late.stderr
    no_reason = smartoa("consignes", "publish", path, "--force", SMARTOA_NOW=LATE.isoformat())
    assert no_reason.returncode == 1 and "a reason is required to force" in no_reason.stderr
    assert not Consigne.objects.exists() and not AuditEvent.objects.filter(action="consigne.published").exists()
    ok = smartoa("consignes", "publish", path, "--force", "--reason", REASON, SMARTOA_NOW=LATE.isoformat())
    assert ok.returncode == 0, ok.stderr
    event = AuditEvent.objects.get(action="consigne.published")
    assert event.actor.startswith("cli")
    assert (event.details["forced"], event.details["force_reason"]) == (True, REASON)


@pytest.mark.django_db(transaction=True)
def test_the_command_refuses_an_earlier_hlar_unconfirmed_and_accepts_it_confirmed():
    now = {"SMARTOA_NOW": "2026-11-24T14:00:00+01:00"}
    unconfirmed = smartoa("hlar", "set", "--day", DAY.isoformat(), "--time", "15:00", **now)
    assert unconfirmed.returncode == 1
    assert "moving the HLAR of 2026-11-25 earlier, from 2026-11-24T16:30:00+01:00 to 2026-11-24T15:00:00+01:00" in (
        unconfirmed.stderr
    )
    too_soon = smartoa("hlar", "set", "--day", DAY.isoformat(), "--time", "14:29", "--confirm-earlier", **now)
    assert too_soon.returncode == 1 and "the earliest possible is 2026-11-24T14:30:00+01:00" in too_soon.stderr
    assert not HlarOverride.objects.exists()
    ok = smartoa("hlar", "set", "--day", DAY.isoformat(), "--time", "15:00", "--confirm-earlier", **now)
    assert ok.returncode == 0, ok.stderr
    assert "HLAR of 2026-11-25: 2026-11-24T15:00:00+01:00 (was 2026-11-24T16:30:00+01:00)" in ok.stdout
    details = AuditEvent.objects.get(action="hlar.set").details
    assert (details["earlier"], details["forced"]) == (True, False)
