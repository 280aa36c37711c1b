"""The API against its committed contract (openapi.json), fuzzed by schemathesis on a real ``smartoa serve``, in the
test and the production settings, with a valid token of a contract that has published consignes: valid and invalid
requests (positive and negative generation) never get a server error (5xx), and every error answer is the
documented JSON ``{"error", "message", "request_id"}``. Bounded: a few examples per operation and mode."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from smartoa.contracts.services import add_ips
from smartoa.core.clock import now
from tests import factories
from tests.api.servers import start_server
from tests.factories import PUBLIC_IP

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.json"
EXAMPLES = 20  # per operation and generation mode
LAST = "/api/v1/token/renew"  # renewing revokes the token the other operations use: fuzzed last


def published_contract() -> str:
    """A contract with an allowed address and consignes published for today and the next two days; its token."""
    contract = factories.make_contract("BOA00001")
    add_ips(contract, [PUBLIC_IP], actor="test")
    today = now().astimezone(factories.PARIS).date()
    for offset in range(3):
        day = today + timedelta(days=offset)
        factories.publish_day(contract, day, factories.stop_periods(day))
    return factories.make_token(contract)


def error_shape_problems(status: int, content_type: str, body: bytes) -> str | None:
    """Why an error answer is not the documented JSON error, or None."""
    if not content_type.startswith("application/json"):
        return f"{status} answered as {content_type!r}: {body[:200]!r}"
    try:
        document = json.loads(body)
    except ValueError:
        return f"{status} with a body that is not JSON: {body[:200]!r}"
    if not isinstance(document, dict) or not all(isinstance(document.get(k), str) for k in ERROR_KEYS):
        return f"{status} without the error keys: {document!r}"
    return None


ERROR_KEYS = ("error", "message", "request_id")


def fuzz(port: int, token: str) -> tuple[Counter, list[str]]:
    """Every operation of openapi.json, positive then negative; the answers' statuses and the problems found."""
    schema = schemathesis.openapi.from_path(str(OPENAPI))
    operations = sorted((op.ok() for op in schema.get_all_operations()), key=lambda op: op.path == LAST)
    base_url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    # The server trusts 127.0.0.1 as its proxy: the caller is the contract's declared address.
    extra = {"X-Forwarded-For": PUBLIC_IP, "X-Forwarded-Proto": "https"}
    problems: list[str] = []
    statuses: Counter = Counter()

    passes = [(GenerationMode.POSITIVE, headers, EXAMPLES), (GenerationMode.NEGATIVE, headers, EXAMPLES)]
    passes.append((GenerationMode.POSITIVE, {"Authorization": "Bearer not-a-token"}, 3))  # refused: 401s
    for operation in operations:
        for mode, fixed, examples in passes:

            @given(case=operation.as_strategy(mode, headers=fixed))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case) -> None:
                response = case.call(base_url=base_url, headers=extra, allow_redirects=False, timeout=30)
                statuses[response.status_code] += 1
                label = f"{case.method} {case.formatted_path}?{case.query or ''}"
                if response.status_code >= 500:
                    problems.append(f"{label}: {response.status_code} {response.content[:300]!r}")
                elif response.status_code >= 400:
                    content_type = response.headers.get("content-type", [""])
                    content_type = content_type[0] if isinstance(content_type, list) else content_type
                    if problem := error_shape_problems(response.status_code, content_type, response.content):
                        problems.append(f"{label}: {problem}")

            try:
                call()
            except Unsatisfiable:  # nothing invalid to send (an operation without parameters or body)
                assert mode is GenerationMode.NEGATIVE, operation.label
    return statuses, problems


@pytest.mark.parametrize("environment", ["test", "production"])
def test_fuzzed_api_never_fails_and_answers_documented_errors(tmp_path, environment):
    token = published_contract()
    server = start_server(tmp_path, SMARTOA_ENV=environment, SMARTOA_STREAM_URL="http://127.0.0.1:9")
    try:
        statuses, problems = fuzz(server.port, token)
    finally:
        server.stop()
    print(f"schemathesis ({environment}): {sum(statuses.values())} calls, statuses {dict(statuses)}")  # noqa: T201
    assert not problems, "\n".join(problems[:30]) + f"\n{server.logs()[-3000:]}"
    assert statuses[200] and statuses[401] and statuses[422], statuses  # the token worked, others were refused
