"""Messages to producers, sent by e-mail through Django's mail backend once the transaction commits."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction

from smartoa.accounts.models import Role
from smartoa.domain.calendar import iso


def notify_consignes_changed(changes: list[tuple[str, date, int, datetime]], *, reason: str) -> None:
    """Tell every account holding a role on a changed contract that its consigne has a new version and must be
    acknowledged again. ``changes``: (contract_id, delivery_day, version number, HLAR) tuples. One e-mail per
    account, sent after commit (nothing is sent if the change is rolled back)."""
    if not changes:
        return
    by_contract = defaultdict(list)
    for change in changes:
        by_contract[change[0]].append(change)
    per_user = defaultdict(list)
    roles = Role.objects.filter(contract__contract_id__in=by_contract, user__is_active=True)
    for email, contract_id in roles.values_list("user__email", "contract__contract_id"):
        per_user[email].extend(by_contract[contract_id])
    messages = []
    for email, items in sorted(per_user.items()):
        lines = [
            f"- {cid}, livraison {day:%d/%m/%Y} : version {number}, à acquiescer avant {iso(hlar)}"
            for cid, day, number, hlar in sorted(items)
        ]
        body = (
            "Bonjour,\n\nSuite à un incident, des consignes d'effacement ont été modifiées "
            f"(motif : {reason}).\nLes acquiescements précédents ne valent plus : merci d'acquiescer de nouveau.\n\n"
            + "\n".join(lines)
            + f"\n\n{settings.BASE_URL}/\n"
        )
        messages.append(("SMART OA — consignes modifiées, nouvel acquiescement requis", body, None, [email]))
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
