"""The shared cache's database backend (the default, without SMARTOA_CACHE_URL).

Django's database cache increments a counter as a read then a write, so two workers incrementing at once lose
one increment: django-ratelimit's counters (the API's refused calls, ``api/refusals.py``) were measured letting
9 refusals through a limit of 6 with two workers. This backend does the read and the write in one transaction
that holds a lock on the key first: SQLite's write lock, taken when the transaction begins
(``transaction_mode=IMMEDIATE``), or a PostgreSQL advisory lock on the key.
"""

from __future__ import annotations

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        with transaction.atomic(using=db):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        [self.make_and_validate_key(key, version=version)],
                    )
            return super().incr(key, delta, version=version)
