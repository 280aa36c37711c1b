"""The API's shared schemas: what the OpenAPI document says of inputs, outputs and errors."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import PlainValidator, WithJsonSchema

from smartoa.domain.calendar import parse_day

NOTHING_PUBLISHED_MESSAGE = "no consigne has been published for this contract yet"


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    return parse_day(value)  # InvalidInput (a ValueError) on anything but YYYY-MM-DD within 2000–2099


# A day given by the caller: strictly YYYY-MM-DD, within the days the platform handles (domain.calendar).
Day = Annotated[
    date,
    PlainValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2025-09-22"]}),
]
# Dates and times the platform writes, served as they are stored (Europe/Paris, with the offset).
IsoDate = Annotated[str, WithJsonSchema({"type": "string", "format": "date", "examples": ["2025-09-22"]})]
IsoDateTime = Annotated[
    str, WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2025-09-21T16:30:00+02:00"]})
]


class ErrorOut(Schema):
    error: str = Field(description="stable code: missing_token, unknown_token, ip_not_allowed, not_found, …")
    message: str = Field(description="human-readable explanation")
    request_id: str | None = Field(
        None, description="the request's id, also in the X-Request-ID header: quote it when asking about an answer"
    )


class PeriodOut(Schema):
    start_date: IsoDateTime = Field(description="start of the period, included (Europe/Paris, with offset)")
    end_date: IsoDateTime = Field(description="end of the period, excluded")
    value: Literal[0.0, 1.0] = Field(
        description="1.0: stop production (effacement) during the period; 0.0: no stop. A JSON float."
    )


class ConsigneOut(Schema):
    """A consigne d'effacement, in the seed's format and key order; ``data`` covers the whole local day (23, 24
    or 25 hours) in consecutive periods."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "BOAXXXXX",
                    "update_date": "2025-09-21T12:55:05+02:00",
                    "application_date": "2025-09-22",
                    "data": [
                        {
                            "start_date": "2025-09-22T00:00:00+02:00",
                            "end_date": "2025-09-22T11:55:00+02:00",
                            "value": 0.0,
                        },
                        {
                            "start_date": "2025-09-22T11:55:00+02:00",
                            "end_date": "2025-09-22T18:00:00+02:00",
                            "value": 1.0,
                        },
                        {
                            "start_date": "2025-09-22T18:00:00+02:00",
                            "end_date": "2025-09-23T00:00:00+02:00",
                            "value": 0.0,
                        },
                    ],
                }
            ]
        }
    }

    id: str = Field(description="the contract id, e.g. BOAXXXXX", examples=["BOAXXXXX"])
    update_date: IsoDateTime = Field(description="when this version was published")
    application_date: IsoDate = Field(description="the day the consigne applies to")
    data: list[PeriodOut]


AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut, 429: ErrorOut, 503: ErrorOut}
