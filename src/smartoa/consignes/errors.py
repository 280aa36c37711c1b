"""Refusals of consigne operations. Each carries a stable ``code`` (the API's error code)."""


class ConsigneError(ValueError):
    """A consigne operation refused; the message is meant for the user."""

    code = "invalid_input"


class NotPublished(ConsigneError):
    code = "not_found"


class DeadlinePassed(ConsigneError):
    code = "deadline_passed"


class StaleVersion(ConsigneError):
    code = "stale_version"
