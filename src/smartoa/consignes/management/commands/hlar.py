"""``smartoa hlar set|show``: the HLAR of a delivery day (postponed by RTE) and the deadlines it moves."""

from django.db import transaction

from smartoa.consignes.deadlines import cutoff_for_hlar, hlar_for, parse_hhmm, set_hlar
from smartoa.consignes.rules import forced
from smartoa.core.management.base import CLI_ACTOR, ActionCommand, day_argument
from smartoa.domain.calendar import iso


class Command(ActionCommand):
    help = (
        "Show or set the HLAR of a delivery day (postpone it, or move it earlier with --confirm-earlier); it moves "
        "the change and acknowledgment deadlines and tells the producers."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        st = sub.add_parser("set", help="set the HLAR of delivery day D (a local time on D−1)")
        st.add_argument("--day", required=True, help="delivery day D, YYYY-MM-DD")
        st.add_argument("--time", required=True, help="HLAR as local time HH:MM on D−1 (Europe/Paris)")
        st.add_argument(
            "--confirm-earlier",
            action="store_true",
            help="confirm moving the HLAR earlier (it closes changes and acknowledgments sooner)",
        )
        st.add_argument("--force", action="store_true", help="allow it even if the current or new HLAR is past")
        st.add_argument("--reason", help="why it is forced (required with --force, kept in the audit log)")
        sh = sub.add_parser("show", help="print the HLAR and change deadline of delivery day D")
        sh.add_argument("--day", required=True, help="delivery day D, YYYY-MM-DD")

    def do_set(self, day, time, confirm_earlier, force, reason, **options):
        day, at = day_argument(day), parse_hhmm(time)
        with transaction.atomic():
            previous, new = set_hlar(
                day, at, actor=CLI_ACTOR, confirm_earlier=confirm_earlier, force=forced(force, reason)
            )
        self.stdout.write(f"HLAR of {day}: {iso(new)} (was {iso(previous)})")
        self.stdout.write(f"changes accepted until {iso(cutoff_for_hlar(new))}, acknowledgments until {iso(new)}")

    def do_show(self, day, **options):
        day = day_argument(day)
        hlar_at = hlar_for(day)
        self.stdout.write(f"HLAR of {day}: {iso(hlar_at)}")
        self.stdout.write(
            f"changes accepted until {iso(cutoff_for_hlar(hlar_at))}, acknowledgments until {iso(hlar_at)}"
        )
