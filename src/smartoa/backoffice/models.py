"""Models of this feature (see the issue that builds it)."""
