"""The hash of provisional passwords.

A provisional password is a 96-bit random secret made by the platform (``secrets.token_urlsafe(12)``), e-mailed to
the user and replaced at their first login. A slow hash (Argon2, the platform's default) protects passwords people
choose, which can be guessed; a random 96-bit secret cannot, so one salted PBKDF2-SHA256 round protects it as well
— as the API tokens' single SHA-256 does. It lets an operator's import create 10,000 accounts in seconds rather
than spend an hour of Argon2 on them. At the first login Django re-hashes the password with Argon2 (the preferred
hasher) before the change is forced; every password a person chooses is hashed with Argon2.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher

PROVISIONAL = "provisional_pbkdf2_sha256"


class ProvisionalPasswordHasher(PBKDF2PasswordHasher):
    algorithm = PROVISIONAL
    iterations = 1
