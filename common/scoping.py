"""The firewall between the companies of a group: staff who work for some programmes only see those
programmes' members, ledger, promotions, billing and reports, and nothing of the others; staff who work
for no programme in particular (the group's secretariat) see everything.

Three parts, each filled in by the layer that knows it, so that no app imports one above its own:
- which programmes a staff member works for: a resolver registered by points (`resolve_scopes_with`),
  where the staff member's programmes are kept; read once per request (`request_scope`);
- how a model's rows reach their programme: a lookup path per model ("programme", "account__programme",
  "accounts__programme" for a member, who belongs to every programme they have an account in), registered
  by the app that owns the model or, for members and stores, by points (`register_programme_paths`);
  a model with no path belongs to the whole group, and staff of a programme see none of its rows;
- the admin: `ProgrammeScopedAdmin`, which the back office's admin site mixes into every ModelAdmin it
  registers (loyalty/admin_site.py), so that changelists, change, history and delete pages, actions,
  exports and autocompletes read only the staff's rows, an id outside them answers 404, and the choices
  of forms and list filters offer only the staff's programmes' rows. Custom admin views load their
  objects through `get_object` or `scoped(request, queryset)` and narrow their forms with `narrow_form`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.contrib.admin import RelatedFieldListFilter
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import Model, Q, QuerySet
from django.http import Http404


@dataclass(frozen=True)
class ProgrammeScope:
    """The programmes a staff member works for; None for the whole group."""

    programme_ids: frozenset[int] | None

    @property
    def is_scoped(self) -> bool:
        return self.programme_ids is not None

    def allows(self, programme_id: int | None) -> bool:
        return not self.is_scoped or programme_id in self.programme_ids

    def filter(self, queryset: QuerySet) -> QuerySet:
        """The rows of the queryset in the staff's programmes: all of them for the whole group, none of a
        model that belongs to no programme."""
        if not self.is_scoped:
            return queryset
        path = programme_path(queryset.model)
        if path is None:
            return queryset.none()
        return queryset.filter(_in_programmes(queryset.model, path, self.programme_ids))


WHOLE_GROUP = ProgrammeScope(None)

_resolver: Callable[[object], Collection[int] | None] | None = None
_paths: dict[type[Model], str] = {}


def resolve_scopes_with(resolver: Callable[[object], Collection[int] | None]) -> None:
    """Set how a user's programmes are found: ids, or None for the whole group (points registers it)."""
    global _resolver
    _resolver = resolver


def register_programme_paths(paths: dict[type[Model], str]) -> None:
    """Say how each model's rows reach their programme: a lookup ending at the programme ("pk" for the
    programme itself). A path through a reverse relation ("accounts__programme") means "any of them"."""
    _paths.update(paths)


def programme_path(model: type[Model]) -> str | None:
    return _paths.get(model) or _paths.get(model._meta.concrete_model)


def scope_of_user(user) -> ProgrammeScope:
    if not getattr(user, "is_authenticated", False):
        # Nobody logged in works for no programme at all: they see nothing.
        return ProgrammeScope(frozenset())
    if _resolver is None:
        raise ImproperlyConfigured("No resolver of staff programmes: points registers it when it is ready.")
    ids = _resolver(user)
    return WHOLE_GROUP if ids is None else ProgrammeScope(frozenset(ids))


def request_scope(request) -> ProgrammeScope:
    """The programmes the request's user works for, read once per request."""
    scope = getattr(request, "_programme_scope", None)
    if scope is None:
        scope = request._programme_scope = scope_of_user(request.user)
    return scope


def scoped(request, queryset: QuerySet) -> QuerySet:
    return request_scope(request).filter(queryset)


def report_programme_ids(request, chosen=None) -> frozenset[int] | None:
    """The programmes a report covers: the one chosen on its form (whose choices were narrowed), else every
    programme of the staff member; None for all, for the whole group."""
    if chosen is not None:
        return frozenset({chosen.pk})
    return request_scope(request).programme_ids


def narrow_form(request, form) -> None:
    """Offer in the form's choices of related rows only those of the staff's programmes (programmes,
    stores, members, campaigns, counters...); choices of rows that belong to no programme are left."""
    scope = request_scope(request)
    if not scope.is_scoped:
        return
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None and programme_path(queryset.model) is not None:
            field.queryset = scope.filter(queryset)


def narrowed_form_class(request, form_class):
    """The form class whose instances narrow their choices as `narrow_form` does."""
    if not request_scope(request).is_scoped:
        return form_class

    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **kwargs)
        narrow_form(request, self)

    return type(form_class.__name__, (form_class,), {"__init__": __init__, "__module__": form_class.__module__})


def _in_programmes(model: type[Model], path: str, ids: frozenset[int]) -> Q:
    """The condition "this row reaches one of `ids` by `path`". A step through a reverse relation becomes
    an `IN (subquery)` on the related table, so that a row reached several ways is listed once and the
    list needs no DISTINCT."""
    parts = path.split("__")
    opts = model._meta
    for position, part in enumerate(parts):
        if part == "pk":
            break
        field = opts.get_field(part)
        if field.one_to_many:
            before, rest = "__".join(parts[:position]), "__".join(parts[position + 1 :])
            related = field.related_model
            inner = related._base_manager.filter(_in_programmes(related, rest, ids)).values(field.field.attname)
            return Q(**{f"{before}__pk__in" if before else "pk__in": inner})
        if field.many_to_many:
            inner = model._base_manager.filter(**{f"{path}__in": ids}).values("pk")
            return Q(pk__in=inner)
        opts = field.related_model._meta
    return Q(**{f"{path}__in": ids})


class ScopedRelatedFieldListFilter(RelatedFieldListFilter):
    """A list filter on a related row that offers only the rows of the staff's programmes."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        queryset = scoped(request, field.related_model._default_manager.all())
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(row.pk, str(row)) for row in queryset]


class ProgrammeScopedAdmin:
    """Mixed into every ModelAdmin of the back office by its admin site: what staff of some programmes may
    read and change is their programmes' rows; a model that belongs to no programme (users, the audit
    trail, background tasks) is the whole group's, and hidden from them."""

    def _scope(self, request) -> ProgrammeScope:
        return request_scope(request)

    def _hidden(self, request) -> bool:
        return self._scope(request).is_scoped and programme_path(self.model) is None

    # --- what is read ----------------------------------------------------------------------

    def get_queryset(self, request):
        return self._scope(request).filter(super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and self._scope(request).is_scoped:
            # Another programme's id is not there at all: no redirect that would tell it exists.
            raise Http404
        return obj

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        if self._scope(request).is_scoped:
            raise Http404
        return super()._get_obj_does_not_exist_redirect(request, opts, object_id)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if programme_path(inline.model) is not None:
            # Rows of a shared parent (a merchant's stores) that belong to another programme stay out.
            kwargs["queryset"] = self._scope(request).filter(kwargs["queryset"])
        return kwargs

    # --- what may be done ------------------------------------------------------------------

    def has_module_permission(self, request):
        return not self._hidden(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return not self._hidden(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return not self._hidden(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return not self._hidden(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._hidden(request) and super().has_delete_permission(request, obj)

    def has_import_permission(self, request):
        # An import finds rows by id across the whole table; it is the group secretariat's.
        if self._scope(request).is_scoped:
            return False
        parent = getattr(super(), "has_import_permission", None)
        return parent(request) if parent is not None else False

    # --- what forms and filters offer -------------------------------------------------------

    def get_form(self, request, obj=None, **kwargs):
        return narrowed_form_class(request, super().get_form(request, obj, **kwargs))

    def get_formsets_with_inlines(self, request, obj=None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            if self._scope(request).is_scoped:
                form = narrowed_form_class(request, formset.form)
                formset = type(formset.__name__, (formset,), {"form": form})
            yield formset, inline

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if not self._scope(request).is_scoped:
            return filters
        return [self._scoped_list_filter(item) for item in filters]

    def _scoped_list_filter(self, item):
        if not isinstance(item, str):
            return item
        try:
            field = get_fields_from_path(self.model, item)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return item
        if field.is_relation and programme_path(field.related_model) is not None:
            return (item, ScopedRelatedFieldListFilter)
        return item
