"""smartoa-client: the SMART OA client for producers' and aggregators' machines."""

__version__ = "0.1.0"
