"""``smartoa tokens issue|list|revoke CONTRACT_ID``: a contract's API tokens."""

from django.db import transaction
from django.utils.translation import gettext_noop

from smartoa.contracts.services import get_contract, issue_token, revoke_tokens, token_state, tokens_of
from smartoa.core.management.base import CLI_ACTOR, ActionCommand
from smartoa.domain.calendar import iso
from smartoa.domain.errors import Conflict


class Command(ActionCommand):
    help = "Manage API tokens: issue a new one (revoking the previous one), list them, revoke the active one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("issue", "issue a new token for a contract, printed alone on the last line (revokes the previous one)"),
            ("list", "the contract's tokens: prefix, creation, expiry, last use, state"),
            ("revoke", "revoke the contract's active token (its API calls are refused at once)"),
        ):
            sub.add_parser(name, help=text).add_argument("contract_id")

    def do_issue(self, contract_id, **options):
        with transaction.atomic():
            plain, token = issue_token(get_contract(contract_id), actor=CLI_ACTOR)
        self.stderr.write(f"token for {contract_id}, valid until {iso(token.expires_at)}:")
        self.stdout.write(plain)

    def do_list(self, contract_id, **options):
        tokens = tokens_of(get_contract(contract_id))
        if not tokens:
            self.stderr.write(f"{contract_id}: no token issued")
            return
        self.stdout.write(
            "prefix       created                    expires                    last use                   state"
        )
        for t in tokens:
            last = iso(t.last_used_at) if t.last_used_at else "never"
            self.stdout.write(
                f"{t.prefix:<12} {iso(t.created_at):<26} {iso(t.expires_at):<26} {last:<26} {token_state(t)}"
            )

    def do_revoke(self, contract_id, **options):
        with transaction.atomic():
            count = revoke_tokens(get_contract(contract_id), actor=CLI_ACTOR)
        if not count:
            raise Conflict(gettext_noop("%(contract_id)s: no active token to revoke"), contract_id=contract_id)
        self.stdout.write(f"{contract_id}: token revoked; its API calls are refused from now on")
