"""GET /api/v1/effacement: the seed's document, byte for byte, through the production WSGI entry point."""

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from smartoa.consignes.models import ConsigneVersion
from smartoa.domain.calendar import parse_instant
from smartoa.domain.schedule import no_stop_periods
from tests.factories import modify_day

SEED = (Path(__file__).parent.parent / "data" / "seed_effacement.json").read_text()
SEED_NOW = parse_instant("2025-09-21T12:55:05+02:00")


@pytest.fixture
def seed_published(make_contract, issue_token, settings, tmp_path):
    settings.SMARTOA_NOW = SEED_NOW
    contract = make_contract("BOAXXXXX")
    token = issue_token(contract)
    source = json.loads(SEED)
    source["update_date"] = "1999-01-01T00:00:00+01:00"  # ignored: the platform stamps the version itself
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(source))
    call_command("consignes", "publish", str(path))
    return contract, token


def test_seed_document_byte_for_byte(seed_published, wsgi):
    _, token = seed_published
    response = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.body.decode().strip() == SEED.strip()


def test_same_answer_through_django_view(seed_published, client):
    """The documented Django route (used when the hot path is not in front) answers the same bytes."""
    _, token = seed_published
    response = client.get("/api/v1/effacement", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.content.decode().strip() == SEED.strip()


def test_nothing_published_is_404(make_contract, issue_token, wsgi):
    token = issue_token(make_contract("BOA00001"))
    response = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 404
    assert response.json()["error"] == "not_found"


def test_latest_day_and_newest_version_win(seed_published, wsgi, settings, tmp_path):
    contract, token = seed_published
    settings.SMARTOA_NOW = parse_instant("2025-09-22T10:00:00+02:00")
    next_day = json.loads(SEED.replace("2025-09-23", "2025-09-24").replace("2025-09-22", "2025-09-23"))
    path = tmp_path / "d2.json"
    path.write_text(json.dumps(next_day))
    call_command("consignes", "publish", str(path))
    body = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["application_date"] == "2025-09-23"
    assert body["update_date"] == "2025-09-22T10:00:00+02:00"
    # A newer version of the latest day is what is served.
    day = date(2025, 9, 23)
    modify_day(contract, day, no_stop_periods(day), moment=parse_instant("2025-09-22T11:00:00+02:00"))
    body = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["update_date"] == "2025-09-22T11:00:00+02:00" and len(body["data"]) == 1


def test_versions_are_immutable(seed_published):
    from smartoa.core.models import ImmutableError

    version = ConsigneVersion.objects.get()
    version.reason = "changed"
    with pytest.raises(ImmutableError):
        version.save()
    with pytest.raises(ImmutableError):
        version.delete()


def test_other_methods_do_not_take_the_hot_path(seed_published, wsgi):
    _, token = seed_published
    response = wsgi("POST", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 405


def test_update_date_is_the_clock_in_paris_time(make_contract, settings, tmp_path):
    settings.SMARTOA_NOW = datetime.fromisoformat("2026-01-10T14:00:00+00:00")  # before the 16:00 cutoff
    make_contract("BOAXXXXX")
    path = tmp_path / "w.json"
    path.write_text(
        SEED.replace("2025-09-22", "2026-01-11").replace("2025-09-23", "2026-01-12").replace("+02:00", "+01:00")
    )
    call_command("consignes", "publish", str(path))
    assert json.loads(ConsigneVersion.objects.get().document)["update_date"] == "2026-01-10T15:00:00+01:00"
