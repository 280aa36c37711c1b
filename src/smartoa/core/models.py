"""Model bases shared by the features."""

from __future__ import annotations

from django.db import models


class ImmutableError(Exception):
    """An attempt to change or delete a row that is only ever added."""


class AppendOnly(models.Model):
    """Rows that are written once and never changed or deleted (versions, acknowledgments, audit events):
    ``save()`` of an existing row and ``delete()`` raise ImmutableError. ``immutable_reason`` completes the
    message ("… cannot be changed; <reason>")."""

    immutable_reason = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError(f"{self._meta.verbose_name} cannot be changed; {self.immutable_reason}".rstrip("; "))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"{self._meta.verbose_name} cannot be deleted")
