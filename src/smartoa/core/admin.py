"""The admin as a read-only browser whose writes are service-backed operations.

Every model admin derives from ``ReadOnlyAdmin``: nobody adds, changes or deletes a row through the admin's
generic forms (they would skip the services' checks and audit). What an operator may change is declared as
``Operation``s: a small form and the service it calls — the same service, checks and audit as the command line,
every audit event stamped with the operator's address (proxy-aware, as at every door).
An operation is offered on the list page (``on_object = False``) or on one object's page.

Looking needs the ``VIEW`` permission (every operator role); each operation names the ``permission`` it needs
(``core/permissions.py``): it is offered only to an operator whose role has it, and refused to the others with a
page naming the role needed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from smartoa.audit.services import client_address
from smartoa.core.addresses import client_ip
from smartoa.core.formats import error_text
from smartoa.core.permissions import VIEW, role_needed
from smartoa.domain.errors import UserError


def actor_of(request: HttpRequest) -> str:
    """Who acts, for the audit log: the operator's e-mail."""
    return getattr(request.user, "email", "") or request.user.get_username()


def address_of(request: HttpRequest) -> str | None:
    """The operator's address (proxy-aware, like every door: ``core.addresses.client_ip``), for the audit log."""
    return client_ip(request)


class Operation:
    """A write offered in the admin: ``form_class`` collects the input, ``perform`` calls a service inside a
    transaction and returns the success message, or a response to show instead (e.g. a token shown once).
    A ``UserError`` raised by the service is shown on the form and nothing is written."""

    name = ""
    label = ""
    help_text = ""
    on_object = True
    permission = ""  # the permission it needs (core/permissions.py): every operation names one
    form_class: type[forms.Form] = forms.Form

    def allowed(self, user, obj=None) -> bool:
        """Whether ``user`` may run this operation (on ``obj``)."""
        return bool(self.permission and user.is_active and user.is_staff and user.has_perm(self.permission))

    def perform(self, request: HttpRequest, obj, form: forms.Form) -> str | HttpResponse:
        raise NotImplementedError

    def form(self, request: HttpRequest, obj) -> forms.Form:
        if request.method == "POST":
            return self.form_class(request.POST, request.FILES)
        return self.form_class()


def may_look(user) -> bool:
    """Whether ``user`` may browse the admin: an active operator whose role sees the back office."""
    return bool(user.is_active and user.is_staff and user.has_perm(VIEW))


class ReadOnlyPermissions:
    """Nobody adds, changes or deletes through the generic views; operators in a role may look."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return may_look(request.user)

    def has_module_permission(self, request):  # one permission to look at everything: no per-model one
        return may_look(request.user)


class ReadOnlyAdmin(ReadOnlyPermissions, admin.ModelAdmin):
    """Read-only for everyone, superusers included; ``operations`` are the service-backed writes."""

    operations: tuple[Operation, ...] = ()
    actions = None
    change_list_template = "admin/smartoa/change_list.html"
    change_form_template = "admin/smartoa/change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("do/<str:name>/", wrap(self.operation_view), name="%s_%s_operation" % info),
            path(
                "<path:object_id>/do/<str:name>/",
                wrap(self.operation_view),
                name="%s_%s_object_operation" % info,
            ),
            *super().get_urls(),
        ]

    def operation_links(self, request, obj=None) -> list[tuple[str, str]]:
        """(label, url) of the operations offered to ``request``'s operator on the list (``obj`` None) or on
        ``obj``'s page."""
        info = self.opts.app_label, self.opts.model_name
        links = []
        for op in self.operations:
            if not op.allowed(request.user, obj):
                continue
            if op.on_object and obj is not None:
                url = reverse("admin:%s_%s_object_operation" % info, args=[obj.pk, op.name])
            elif not op.on_object and obj is None:
                url = reverse("admin:%s_%s_operation" % info, args=[op.name])
            else:
                continue
            links.append((op.label, url))
        return links

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "operation_links": self.operation_links(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        links = self.operation_links(request, obj) if obj is not None else []
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "operation_links": links})

    def operation_view(self, request, name, object_id=None):
        """Show an operation's form; on a valid POST, run it in one transaction."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        operation = next((op for op in self.operations if op.name == name), None)
        if operation is None or operation.on_object != (object_id is not None):
            raise Http404(_("Opération inconnue"))
        obj = None
        if object_id is not None:
            obj = self.get_object(request, object_id)
            if obj is None:
                raise Http404(_("Objet introuvable"))
        if not operation.allowed(request.user, obj):
            if not operation.permission:  # an operation that names no permission is for nobody
                raise PermissionDenied
            return self.role_needed(request, operation)
        form = operation.form(request, obj)
        if request.method == "POST" and form.is_valid():
            try:
                with client_address(client_ip(request)), transaction.atomic():
                    result = operation.perform(request, obj, form)
            except UserError as exc:
                form.add_error(None, error_text(exc))
            else:
                if isinstance(result, HttpResponse):
                    return result
                messages.success(request, result)
                info = self.opts.app_label, self.opts.model_name
                if obj is None:
                    return redirect("admin:%s_%s_changelist" % info)
                return redirect("admin:%s_%s_change" % info, obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": operation.label,
            "operation": operation,
            "object": obj,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/smartoa/operation.html", context, status=400 if form.is_bound else 200)

    def role_needed(self, request, operation: Operation) -> HttpResponse:
        """The 403 page of an operation the operator's role does not allow: it names the role needed."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": operation.label,
            "operation": operation,
            "needed": role_needed(operation.permission),
        }
        return TemplateResponse(request, "admin/smartoa/role_needed.html", context, status=403)


class ReadOnlyInline(ReadOnlyPermissions, admin.TabularInline):
    """An inline list, read-only like the admin it belongs to."""

    extra = 0
    can_delete = False
