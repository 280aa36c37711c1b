"""Reads the code (its syntax tree, nothing is run) for every user-facing message: what a refusal says (``UserError``
and its subclasses, ``CommandError``), what a form says (``ValidationError``, ``form.add_error``) and what a page
flashes (``messages.success/error/warning/info``). Each must be a literal template that a catalogue can translate:

- a user error's template is English, marked ``gettext_noop("… %(name)s …")``, its parameters passed as keywords
  (dates and date-times as objects, a nested refusal as the error itself, never flattened to ``str(exc)``);
- a page's text is French, in ``gettext``/``ngettext`` (``_("… %(n)s …") % {…}`` fills it once translated);
- never an f-string, a concatenation, a ``.join`` or ``.format``, nor a template filled before it is translated.

``tests/core/test_translations.py`` runs it on the whole code and on planted examples."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

NOOP = "gettext_noop"  # marks an English template (translated later, at the edge)
GETTEXT = "gettext"  # translates a (French) text now
TRANSLATION_MODULES = {"django.utils.translation", "smartoa.domain.errors"}
KINDS = {
    "gettext_noop": NOOP,
    "gettext": GETTEXT,
    "gettext_lazy": GETTEXT,
    "ngettext": GETTEXT,
    "ngettext_lazy": GETTEXT,
    "pgettext": GETTEXT,
    "pgettext_lazy": GETTEXT,
}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error"}
# Calls whose result is a message already rendered for people: the text of a refusal in the request's language,
# the result of an admin operation (its ``perform`` returns are message sites themselves).
RENDERED = {"user_message", "error_text", "perform"}
# Calls that keep the message they are given (judged in their turn).
KEEPING = {"capfirst"}
ERROR_BASES = {"UserError", "CommandError"}


@dataclass
class Site:
    """One message given to a call of ``kind`` at ``place``: its literal templates (``language``, texts: one, or the
    singular and plural of ngettext) and the problems found (empty: a literal template, correctly marked)."""

    place: str
    kind: str
    templates: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def error_classes(sources: dict[str, str]) -> set[str]:
    """Names of UserError, CommandError and every class deriving from them in ``sources`` (path → code)."""
    names = set(ERROR_BASES) | {"InvalidInput", "NotFound", "Conflict", "DeadlinePassed", "StaleVersion"}
    classes = [
        (node.name, {_name(b) for b in node.bases})
        for code in sources.values()
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.ClassDef)
    ]
    while True:
        found = {name for name, bases in classes if bases & names} - names
        if not found:
            return names
        names |= found


def translation_names(tree: ast.Module) -> dict[str, str]:
    """The module's local names of the translation functions (``_``, ``gettext_noop``…) → their own names."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in KINDS:  # domain/errors.py defines gettext_noop
            names[node.name] = node.name
        if isinstance(node, ast.ImportFrom) and node.module in TRANSLATION_MODULES:
            for alias in node.names:
                if alias.name in KINDS:
                    names[alias.asname or alias.name] = alias.name
    return names


def marked_templates(source: str) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, language, texts) of every literal given to a translation function anywhere in ``source``."""
    tree = ast.parse(source)
    names = translation_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (kind := _translation_kind(node, names)):
            texts = _literals(node, names)
            if texts and None not in texts:
                found.append((node.lineno, "en" if kind == NOOP else "fr", tuple(t for t in texts if t is not None)))
    return found


def scan(source: str, path: str, errors: set[str]) -> list[Site]:
    """Every message site of ``source`` (the code of ``path``), judged; ``errors`` are the user error classes."""
    tree = ast.parse(source)
    return list(_Scanner(tree, path, errors).sites())


class _Scanner:
    def __init__(self, tree: ast.Module, path: str, errors: set[str]):
        self.tree, self.path, self.errors = tree, path, errors
        self.names = translation_names(tree)
        self.parents: dict[ast.AST, ast.AST] = {
            child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
        }

    def sites(self) -> Iterator[Site]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef) and node.name == "perform":  # an admin operation: its message
                for returned in ast.walk(node):
                    if isinstance(returned, ast.Return) and returned.value is not None and not _is_response(returned):
                        site = Site(f"{self.path}:{returned.lineno}", "messages")
                        self._judge(returned.value, site, returned, fill=True, depth=0)
                        yield site
            if not isinstance(node, ast.Call):
                continue
            found = self._message_of(node)
            if found is None:
                continue
            kind, message = found
            site = Site(f"{self.path}:{node.lineno}", kind)
            self._judge(message, site, node, fill=kind not in ("error", "command"), depth=0)
            if kind == "error":
                self._judge_params(node, site)
            yield site

    def _message_of(self, call: ast.Call) -> tuple[str, ast.expr] | None:
        """(kind, message expression) when ``call`` gives a user-facing message."""
        name = _name(call.func)
        if name in self.errors:
            kind = "command" if name == "CommandError" else "error"
            return _argument(call, 0, "message_template", "message", kind=kind)
        if name == "ValidationError":
            return _argument(call, 0, "message", kind="validation")
        if name == "add_error" and isinstance(call.func, ast.Attribute):
            return _argument(call, 1, "error", kind="add_error")
        if isinstance(call.func, ast.Attribute) and _name(call.func.value) == "messages":
            if name in MESSAGE_LEVELS:
                return _argument(call, 1, "message", kind="messages")
            if name == "add_message":
                return _argument(call, 2, "message", kind="messages")
        return None

    def _judge(self, node: ast.expr, site: Site, at: ast.AST, *, fill: bool, depth: int) -> None:
        """Record the literal templates of ``node`` in ``site``, or why it is not one."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                site.problems.append(f"a literal not marked for translation: {node.value[:60]!r}")
            return
        if isinstance(node, ast.JoinedStr):
            site.problems.append(f"an f-string: {ast.unparse(node)[:80]}")
            return
        if isinstance(node, ast.IfExp):
            for branch in (node.body, node.orelse):
                self._judge(branch, site, at, fill=fill, depth=depth)
            return
        if isinstance(node, ast.BinOp):
            if fill and isinstance(node.op, ast.Mod) and self._is_translated_text(node.left, site, at, depth):
                for value in ast.walk(node.right):
                    if isinstance(value, ast.Call) and _name(value.func) in ("iso", "isoformat"):
                        site.problems.append("a date written as ISO text for people (write it with core.formats)")
                return
            what = {ast.Add: "a concatenation", ast.Mod: "a template filled before it is translated"}
            site.problems.append(f"{what.get(type(node.op), 'an operation')}: {ast.unparse(node)[:80]}")
            return
        if isinstance(node, ast.Call):
            kind = _translation_kind(node, self.names)
            name = _name(node.func)
            if kind == NOOP and fill:
                site.problems.append(f"an English template shown untranslated: {ast.unparse(node)[:80]}")
            elif kind == GETTEXT and not fill:
                site.problems.append(f"a user error's template translated when raised: {ast.unparse(node)[:80]}")
            elif kind:
                literals = _literals(node, self.names)
                if None in literals or not literals:
                    site.problems.append(f"a template that is not a literal: {ast.unparse(node)[:80]}")
                else:
                    site.templates.append(("en" if kind == NOOP else "fr", tuple(t for t in literals if t)))
            elif name in ("join", "format") and isinstance(node.func, ast.Attribute):
                site.problems.append(f"a .{name}(): {ast.unparse(node)[:80]}")
            elif name in RENDERED or (name == "str" and not fill):
                pass  # a refusal's text (str(exc): a command's message is the refusal's machine text)
            elif name in KEEPING and node.args:
                self._judge(node.args[0], site, at, fill=fill, depth=depth)
            else:
                site.problems.append(f"a message built by {name or 'a call'}(): {ast.unparse(node)[:80]}")
            return
        if isinstance(node, ast.Name) and depth < 5:
            for value in self._assigned(node.id, at):
                self._judge(value, site, at, fill=fill, depth=depth + 1)
        # Otherwise (a parameter, a loop variable, a table's entry, an attribute): not built here. The templates
        # such names hold are marked where they are written, and checked there (``marked_templates``).

    def _is_translated_text(self, node: ast.expr, site: Site, at: ast.AST, depth: int) -> bool:
        """Whether ``node`` is a text translated by gettext/ngettext (directly or through a local name)."""
        if isinstance(node, ast.Call) and _translation_kind(node, self.names) == GETTEXT:
            self._judge(node, site, at, fill=True, depth=depth)
            return True
        if isinstance(node, ast.IfExp):
            return all(self._is_translated_text(b, site, at, depth) for b in (node.body, node.orelse))
        if isinstance(node, ast.Name) and depth < 5:
            values = self._assigned(node.id, at)
            return bool(values) and all(self._is_translated_text(v, site, at, depth + 1) for v in values)
        return False

    def _assigned(self, name: str, at: ast.AST) -> list[ast.expr]:
        """The values assigned to ``name`` in the function holding ``at`` (or in the module)."""
        scope = self._scope(at)
        values = []
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                targets = [node.target]
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                values.append(node.value)
        return values

    def _scope(self, node: ast.AST) -> ast.AST:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return self.tree

    def _judge_params(self, call: ast.Call, site: Site) -> None:
        """A user error's parameters: no English words composed into them, no date written as ISO text, no
        refusal flattened to its English text."""
        flattened = self._caught_errors(call)
        for keyword in call.keywords:
            value = keyword.value
            specs = {id(n.format_spec) for n in ast.walk(value) if isinstance(n, ast.FormattedValue) and n.format_spec}
            for node in ast.walk(value):
                if id(node) in specs:  # f"{first:%Y-%m}": a format, not words
                    continue
                if isinstance(node, ast.JoinedStr) and any(
                    isinstance(part, ast.Constant) and any(c.isalpha() for c in str(part.value)) for part in node.values
                ):
                    site.problems.append(f"parameter {keyword.arg}: an f-string with words: {ast.unparse(node)[:60]}")
                elif (
                    isinstance(node, ast.BinOp)
                    and isinstance(node.op, ast.Add)
                    and any(map(_is_text, (node.left, node.right)))
                ):
                    site.problems.append(f"parameter {keyword.arg}: text concatenated: {ast.unparse(node)[:60]}")
                elif _is_join(node) and isinstance(node.func.value, ast.Constant) and "\n" in node.func.value.value:
                    site.problems.append(f"parameter {keyword.arg}: lines joined into text (pass a list of errors)")
                elif isinstance(node, ast.Call) and _name(node.func) in ("iso", "isoformat"):
                    site.problems.append(f"parameter {keyword.arg}: a date written as ISO text (pass the object)")
                elif (
                    isinstance(node, ast.Call)
                    and _name(node.func) == "str"
                    and node.args
                    and _name(node.args[0]) in flattened
                ):
                    site.problems.append(f"parameter {keyword.arg}: a refusal flattened to text (pass the error)")

    def _caught_errors(self, at: ast.AST) -> set[str]:
        """Names bound to a caught user error (``except InvalidInput as exc``) in the function holding ``at``."""
        names = set()
        for node in ast.walk(self._scope(at)):
            if isinstance(node, ast.ExceptHandler) and node.name and node.type is not None:
                types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                if any(_name(t) in self.errors - {"CommandError"} for t in types):
                    names.add(node.name)
        return names


def _name(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_join(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"


def _is_text(node: ast.AST) -> bool:
    """A text made here: a literal, an f-string or a ``.join``."""
    return (
        isinstance(node, ast.JoinedStr)
        or _is_join(node)
        or (isinstance(node, ast.Constant) and isinstance(node.value, str))
    )


def _is_response(returned: ast.Return) -> bool:
    """Whether an admin operation returns a page (``render(…)``, a response built before) rather than a message."""
    value = returned.value
    if isinstance(value, ast.Name):
        return value.id == "response"
    return isinstance(value, ast.Call) and _name(value.func) in ("render", "TemplateResponse", "HttpResponse")


def _argument(call: ast.Call, position: int, *keywords: str, kind: str) -> tuple[str, ast.expr] | None:
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return kind, call.args[position]
    for keyword in call.keywords:
        if keyword.arg in keywords:
            return kind, keyword.value
    return None


def _function(call: ast.Call, names: dict[str, str]) -> str | None:
    """The translation function ``call`` calls (by a local name or as ``translation.x``), or None."""
    if isinstance(call.func, ast.Name):
        return names.get(call.func.id)
    if isinstance(call.func, ast.Attribute) and _name(call.func.value) == "translation" and call.func.attr in KINDS:
        return call.func.attr
    return None


def _translation_kind(call: ast.Call, names: dict[str, str]) -> str | None:
    """NOOP or GETTEXT when ``call`` calls a translation function."""
    function = _function(call, names)
    return KINDS[function] if function else None


# Which positional arguments of each translation function are texts.
TEXTS = {"ngettext": slice(0, 2), "ngettext_lazy": slice(0, 2), "pgettext": slice(1, 2), "pgettext_lazy": slice(1, 2)}


def _literals(call: ast.Call, names: dict[str, str]) -> list[str | None]:
    """The texts of a translation call (ngettext: singular and plural), None for one that is not a literal."""
    args = call.args[TEXTS.get(_function(call, names) or "", slice(0, 1))]
    return [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in args]
