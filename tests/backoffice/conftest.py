from tests.billing.conftest import acknowledge, load_curves, make_consigne  # noqa: F401 (shared fixtures)
