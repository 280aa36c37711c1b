"""``smartoa consignes generate|publish|modify|history``: build, publish, change and list consignes.

Every action is all or nothing: one transaction, nothing written when anything is refused.
"""

import json

from django.db import transaction

from smartoa.consignes.generation import parse_exclusions, plan_generation, publish_plan
from smartoa.consignes.queries import version_history
from smartoa.consignes.rules import forced
from smartoa.consignes.services import load_documents, modify, publish
from smartoa.contracts.services import get_contract
from smartoa.core.management.base import CLI_ACTOR, ActionCommand, day_argument, read_text
from smartoa.domain.calendar import iso
from smartoa.domain.errors import NotFound, gettext_noop
from smartoa.domain.generation import describe
from smartoa.domain.schedule import periods_from_json

SHOWN = 20


FORMATS = """\
Prices (generate --prices): CSV with the header `start,price`, one line per quarter-hour of the delivery day
(96 lines; 92 or 100 on daylight-saving change days): `start` is the quarter-hour's start, ISO 8601 with the
Europe/Paris offset of that instant, `price` in €/MWh (a decimal point). Every quarter-hour priced strictly
below the threshold (SMARTOA_PRICE_THRESHOLD, default 0) is a stop; a run of them [t0, t1) becomes the stop
period [t0 − 5 min, t1). Example:

  start,price
  2025-09-22T00:00:00+02:00,43.10
  2025-09-22T00:15:00+02:00,-2.5

Consignes (publish, modify): JSON, one document or a list of documents in the API's format. `update_date`
is ignored (the platform stamps each version); `data` must cover the whole local day [D 00:00, D+1 00:00)
contiguously, on 5-minute boundaries, with the Europe/Paris offset of each instant; `value` 1.0 = stop,
0.0 = no stop (a fraction limits production, offshore wind only). Example:

  {"id": "BOAXXXXX", "application_date": "2025-09-22", "data": [
    {"start_date": "2025-09-22T00:00:00+02:00", "end_date": "2025-09-22T11:55:00+02:00", "value": 0.0},
    {"start_date": "2025-09-22T11:55:00+02:00", "end_date": "2025-09-22T18:00:00+02:00", "value": 1.0},
    {"start_date": "2025-09-22T18:00:00+02:00", "end_date": "2025-09-23T00:00:00+02:00", "value": 0.0}]}

Every action is all or nothing: one bad document (or line) refuses the whole file."""


class Command(ActionCommand):
    help = "Generate, publish, modify and list consignes d'effacement."
    epilog = FORMATS

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("generate", help="build the day's consignes for eligible contracts from 15-minute prices")
        gen.add_argument("--prices", required=True, help="CSV start,price (one line per quarter-hour of the day)")
        gen.add_argument("--day", required=True, help="delivery day YYYY-MM-DD")
        gen.add_argument("--publish", action="store_true", help="publish (without it: preview only)")
        gen.add_argument("--exclude", action="append", default=[], help="contract ids to leave out: ID[,ID…]")
        gen.add_argument("--exclude-file", help="file of contract ids to leave out (one per line or comma-separated)")
        _force_options(gen)
        gen.add_argument(
            "--list",
            dest="list_contracts",
            action="store_true",
            help="list the contracts of each group in the preview",
        )
        pub = sub.add_parser("publish", help="publish explicit consignes (one document or a list, API format)")
        pub.add_argument("file")
        _force_options(pub)
        mod = sub.add_parser("modify", help="incident change of published consignes (new versions)")
        mod.add_argument("file", help="consignes in the API format (one document or a list)")
        mod.add_argument("--reason", required=True, help="why the consignes change (kept with the version)")
        mod.add_argument(
            "--force",
            action="store_true",
            help="change them even after the deadline or for an inactive or ineligible contract (audited, --reason)",
        )
        his = sub.add_parser("history", help="list every version of a contract's consignes")
        his.add_argument("contract_id")
        his.add_argument("--day", help="only this delivery day YYYY-MM-DD")
        his.add_argument("--json", dest="as_json", action="store_true", help="print the versions' API documents")

    def do_generate(self, prices, day, publish, exclude, exclude_file, list_contracts, force, reason, **options):
        day = day_argument(day)
        force_ = forced(force, reason)
        excluded = parse_exclusions("\n".join(exclude))
        if exclude_file:
            excluded += parse_exclusions(read_text(exclude_file))
        plan = plan_generation(read_text(prices), day, exclude=excluded)
        self.stdout.write(f"consignes for {day} (stop below {plan.threshold:g} €/MWh):")
        for summary, ids in plan.groups():
            self.stdout.write(f"  {len(ids)} contract{'s' if len(ids) > 1 else ''}: {summary}")
            if list_contracts:
                self.stdout.write("    " + " ".join(ids))
        if not plan.contracts:
            self.stdout.write("  no eligible contract")
        if plan.excluded:
            self.stdout.write(f"  excluded: {len(plan.excluded)} ({self._named(plan.excluded)})")
        if plan.already_published:
            self.stdout.write(
                f"  already published for {day}: {len(plan.already_published)} "
                f"({self._named(plan.already_published)}) — exclude them or use 'consignes modify'"
            )
        if not publish:
            self.stdout.write("preview only: nothing published (add --publish)")
            return
        with transaction.atomic():
            versions = publish_plan(plan, actor=CLI_ACTOR, force=force_)
        self.stdout.write(f"published {len(versions)} consignes for {day}")

    def do_publish(self, file, force, reason, **options):
        force_ = forced(force, reason)
        documents = load_documents(read_text(file))
        with transaction.atomic():
            versions = publish(documents, actor=CLI_ACTOR, force=force_)
        for doc, v in zip(documents, versions, strict=True):
            self.stdout.write(f"{doc.contract_id} {v.delivery_day} v{v.number} published")

    def do_modify(self, file, reason, force, **options):
        documents = load_documents(read_text(file), action="changed")
        with transaction.atomic():
            versions = modify(documents, reason=reason, actor=CLI_ACTOR, force=forced(force, reason))
        for doc, v in zip(documents, versions, strict=True):
            self.stdout.write(
                f"{doc.contract_id} {v.delivery_day} v{v.number}: {describe(doc.periods)} "
                "(earlier acknowledgments are void)"
            )

    def do_history(self, contract_id, day, as_json, **options):
        contract = get_contract(contract_id)
        wanted = day_argument(day) if day else None
        versions = version_history(contract.pk, wanted)
        if not versions:
            if wanted is None:
                raise NotFound(gettext_noop("no consigne published for %(contract_id)s"), contract_id=contract_id)
            raise NotFound(
                gettext_noop("no consigne published for %(contract_id)s on %(day)s"),
                contract_id=contract_id,
                day=wanted,
            )
        if as_json:
            self.stdout.write(_json_list([v.document for v in versions]))
            return
        for v in versions:
            reason = f" — {v.reason}" if v.reason else ""
            self.stdout.write(
                f"{v.delivery_day} v{v.number} {iso(v.created_at)} by {v.created_by}: "
                f"{describe(periods_from_json(v.periods))}{reason}"
            )
            for ack in sorted(v.acknowledgments.all(), key=lambda a: (a.acknowledged_at, a.pk)):
                self.stdout.write(
                    f"    acknowledged {iso(ack.acknowledged_at)} by {ack.actor} ({ack.channel}, {ack.ip or 'no IP'})"
                )

    @staticmethod
    def _named(ids):
        return ", ".join(ids[:SHOWN]) + (f" … and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def _force_options(parser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="publish even after the day's deadline or for an inactive or ineligible contract (audited)",
    )
    parser.add_argument("--reason", help="why it is forced (required with --force, kept in the audit log)")


def _json_list(documents: list[str]) -> str:
    return json.dumps([json.loads(d) for d in documents], indent=2, ensure_ascii=False)
