"""``smartoa webhooks set|remove|test|show CONTRACT_ID``: a contract's webhook (its consignes POSTed, signed, to a
URL)."""

from django.db import transaction
from django.utils.translation import gettext_noop

from smartoa.contracts.services import get_contract
from smartoa.core.management.base import CLI_ACTOR, ActionCommand
from smartoa.domain.calendar import iso
from smartoa.domain.errors import Conflict
from smartoa.notifications.queries import webhook_log
from smartoa.notifications.services import remove_webhook, send_test, set_webhook, webhook_of


class Command(ActionCommand):
    help = "Manage a contract's webhook: set its URL (a new secret, printed alone on the last line), remove it."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        st = sub.add_parser("set", help="send the contract's consignes to URL (prints the new signing secret)")
        st.add_argument("contract_id")
        st.add_argument("url", help="https:// URL receiving the POSTs (http:// in the test environment only)")
        for name, text in (
            ("remove", "stop calling the contract's webhook"),
            ("test", "queue a signed test event to the contract's webhook"),
            ("show", "the contract's webhook URL and its latest deliveries"),
        ):
            sub.add_parser(name, help=text).add_argument("contract_id")

    def do_set(self, contract_id, url, **options):
        with transaction.atomic():
            secret = set_webhook(get_contract(contract_id), url, actor=CLI_ACTOR)
        self.stderr.write(f"{contract_id}: consignes are POSTed to {url.strip()}; signing secret (shown once):")
        self.stdout.write(secret)

    def do_remove(self, contract_id, **options):
        with transaction.atomic():
            removed = remove_webhook(get_contract(contract_id), actor=CLI_ACTOR)
        if not removed:
            raise Conflict(gettext_noop("%(contract_id)s has no webhook to remove"), contract_id=contract_id)
        self.stdout.write(f"{contract_id}: webhook removed; its consignes are no longer POSTed")

    def do_test(self, contract_id, **options):
        with transaction.atomic():
            message = send_test(get_contract(contract_id), actor=CLI_ACTOR)
        self.stdout.write(f"{contract_id}: test event queued (delivery {message.delivery_id})")

    def do_show(self, contract_id, **options):
        contract = get_contract(contract_id)
        webhook = webhook_of(contract)
        self.stdout.write(f"{contract_id}: {webhook.url if webhook else 'no webhook'}")
        for m in webhook_log(contract):
            self.stdout.write(
                f"{iso(m.created_at)}  {m.event:<20} {m.status:<9} tries {m.attempts}  {m.last_error or ''}".rstrip()
            )
