"""``smartoa consignes publish FILE.json``: publish explicit consignes, all or nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from smartoa.consignes.services import ConsigneError, load_documents, publish
from smartoa.core.management.base import CLI_ACTOR, read_text


class Command(BaseCommand):
    help = "Publish and manage consignes d'effacement."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        pub = sub.add_parser("publish", help="publish explicit consignes (one document or a list, API format)")
        pub.add_argument("file")

    def handle(self, *args, action, **options):
        handler = getattr(self, f"do_{action}")
        try:
            handler(**options)
        except ConsigneError as exc:
            raise CommandError(str(exc)) from None

    def do_publish(self, file, **options):
        documents = load_documents(read_text(file))
        with transaction.atomic():
            versions = publish(documents, actor=CLI_ACTOR)
        for v in versions:
            self.stdout.write(f"{v.consigne.contract.contract_id} {v.delivery_day} v{v.number} published")
