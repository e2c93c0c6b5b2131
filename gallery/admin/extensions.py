"""Room in the library's admin for later stages, as gallery/api/extensions.py is for its API,
so the library imports none of them (apps import only downwards): a stage adds, from its
admin module, columns, list filters, search fields and actions to the image admin (the
features app: "has features" and "Generate features"; the labels app: the labels column
and search by label). The image admin reads what is here on every request, so the order
in which the apps are installed does not matter."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.db.models import QuerySet


@dataclass(frozen=True)
class Column:
    # ``display(image)``, decorated with ``admin.display(description=...)``; its name
    # names the column.
    display: Callable
    # Fetches what the column reads for a whole page at once (prefetch_related).
    prefetch: Callable[[QuerySet], QuerySet] = lambda images: images
    on_page: bool = True  # also shown, read-only, on the image's own page


@dataclass(frozen=True)
class Action:
    # ``function(modeladmin, request, queryset)``, decorated with
    # ``admin.action(description=...)``; its name names the action.
    function: Callable
    allowed: Callable[[object], bool]  # who is offered it: a rule of accounts/rules.py


columns: dict[str, Column] = {}
list_filters: dict[str, type[admin.SimpleListFilter]] = {}
search_fields: list[str] = []  # lookups the admin search also looks in
actions: dict[str, Action] = {}
stylesheets: list[str] = []  # static paths the image admin's pages link (no inline styles)


def column_add(column: Column) -> None:
    columns[column.display.__name__] = column


def list_filter_add(list_filter: type[admin.SimpleListFilter]) -> None:
    list_filters[list_filter.parameter_name] = list_filter


def search_field_add(lookup: str) -> None:
    if lookup not in search_fields:
        search_fields.append(lookup)


def action_add(action: Action) -> None:
    actions[action.function.__name__] = action


def stylesheet_add(path: str) -> None:
    if path not in stylesheets:
        stylesheets.append(path)
