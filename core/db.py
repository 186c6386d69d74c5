"""Database helpers shared by every app. Imports Django only, never an app (a kernel module).

Everything here that touches a Django internal is pinned by tests/test_core_internals.py.
"""
from decimal import Decimal, InvalidOperation

from django.db import models
from django.db.models import QuerySet


def as_prefetched(model, items) -> QuerySet:
    """What prefetch_related would store for `items`, without building a filtered queryset per object.

    Relies on two QuerySet internals (`_result_cache`, `_prefetch_done`); tests/test_core_internals.py pins them.
    """
    queryset = QuerySet(model=model)
    queryset._result_cache = items
    queryset._prefetch_done = True
    return queryset


def seed_prefetched(obj, name: str, rows) -> None:
    """Make `obj.<name>.all()` return `rows` without a query, as if `prefetch_related(name)` had loaded them.

    For rows this transaction just wrote or already holds. `name` is the related manager's
    accessor (a reverse foreign key's related_name, or a many-to-many field). Other relations
    already seeded on `obj` are kept. Relies on `Model._prefetched_objects_cache`.
    """
    model = type(obj)._meta.get_field(name).related_model
    cache = getattr(obj, "_prefetched_objects_cache", None)
    if cache is None:
        cache = obj._prefetched_objects_cache = {}
    cache[name] = as_prefetched(model, rows if isinstance(rows, list) else list(rows))


def is_prefetched(obj, name: str) -> bool:
    """Whether `obj.<name>` was prefetched or seeded (`seed_prefetched`): reading it takes no query. Reads
    `Model._prefetched_objects_cache`."""
    return name in (getattr(obj, "_prefetched_objects_cache", None) or {})


def related_rows(obj, name: str):
    """The rows of `obj.<name>` (a reverse foreign key's related_name or a many-to-many field): the prefetched
    or seeded ones as they are, else `obj.<name>.all()` (a query).

    `obj.<name>.all()` builds a related manager and a queryset on every access, even when prefetched; a
    finalization batch renders ~25 such reads per invoice. Reads `Model._prefetched_objects_cache`.
    """
    cache = getattr(obj, "_prefetched_objects_cache", None)
    if cache is not None and name in cache:
        return cache[name]
    return getattr(obj, name).all()


# SQLite keeps a decimal as an 8-byte float: 15 significant digits survive the round trip (PostgreSQL keeps them all).
STORED_DIGITS = 15


def decimals_stored_exactly(instances) -> bool:
    """True when every DecimalField value of `instances` (loaded ones) reads back from the database equal to
    what is in memory: within its field's decimal places and at most 15 significant digits, on either database.

    For a body rendered from objects held in memory instead of read back (webhooks/payloads.py `render_held`):
    a value the column would round (units typed with 12 decimals, a tiered price of 1/3) would not match.
    """
    for instance in instances:
        deferred = instance.get_deferred_fields()
        for field in instance._meta.concrete_fields:
            if not isinstance(field, models.DecimalField) or field.attname in deferred:
                continue
            value = getattr(instance, field.attname)
            if value is None:
                continue
            try:
                value = Decimal(value)
                if not value.is_finite() or value != value.quantize(Decimal(1).scaleb(-field.decimal_places)):
                    return False
            except InvalidOperation:  # more digits than the context holds
                return False
            if len(value.normalize().as_tuple().digits) > STORED_DIGITS:
                return False
    return True


def with_children(queryset, related_name: str, *, order_by=(), defer=()) -> list:
    """The rows of `queryset`, each with its `related_name` children (a reverse foreign key) as if prefetched,
    read in one query (a LEFT JOIN) instead of prefetch_related's two.

    `order_by` orders the parents (their children follow the child model's ordering); `defer` names parent
    fields left out. Instances are built with `Model.from_db`, as a queryset builds them, and each child's
    foreign key points to its parent object.
    """
    shape = WithChildren(queryset.model, related_name, order_by=order_by, defer=defer)
    return shape.assemble(shape.query(queryset), queryset.db)


class WithChildren:
    """`with_children` in two halves, for a caller that runs the query itself (a core.prepared statement):
    `query(queryset)` is the values_list it reads, `assemble(rows, db)` the parents built from its rows."""

    def __init__(self, model, related_name: str, *, order_by=(), defer=()):
        self.model, self.related_name, self.order_by = model, related_name, order_by
        self.child_field = model._meta.get_field(related_name).field  # the child's ForeignKey to the parent
        child = self.child = self.child_field.model
        self.names = [f.attname for f in model._meta.concrete_fields if f.name not in defer and f.attname not in defer]
        self.child_names = [f.attname for f in child._meta.concrete_fields]
        self.child_order = [("-" if name.startswith("-") else "") + f"{related_name}__{name.lstrip('-')}" for name in child._meta.ordering]

    def query(self, queryset):
        return queryset.order_by(*self.order_by, *self.child_order).values_list(
            *self.names, *(f"{self.related_name}__{n}" for n in self.child_names)
        )

    def assemble(self, rows, db: str) -> list:
        model, child, names, child_names = self.model, self.child, self.names, self.child_names
        width, pk_at = len(names), names.index(model._meta.pk.attname)
        child_pk_at = width + child_names.index(child._meta.pk.attname)
        found: dict = {}
        for row in rows:
            entry = found.get(row[pk_at])
            if entry is None:
                entry = found[row[pk_at]] = (model.from_db(db, names, row[:width]), [])
            if row[child_pk_at] is not None:
                item = child.from_db(db, child_names, row[width:])
                setattr(item, self.child_field.name, entry[0])
                entry[1].append(item)
        for parent, children in found.values():
            seed_prefetched(parent, self.related_name, children)
        return [parent for parent, _ in found.values()]


def is_unsaved(instance) -> bool:
    """True for an instance built in memory and not yet saved (nor loaded from the database): `_state.adding`."""
    return instance._state.adding


def lock_in_order(queryset, **options) -> QuerySet:
    """`queryset` as SELECT ... FOR UPDATE (`options`: of, no_key, skip_locked, nowait), in primary-key order.

    Transactions that lock overlapping sets of rows in one agreed order queue up instead of
    deadlocking crosswise. Evaluate the result (or `.values_list("pk")` of it) to take the locks.
    """
    return queryset.select_for_update(**options).order_by("pk")


class SingletonModel(models.Model):
    """A settings table of exactly one row (pk 1): `current()` reads it, creating it on first use.

    Each subclass adds, in its own Meta, a CheckConstraint `Q(id=1)` (its name is the subclass's), so the
    database refuses a second row too.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)

    class Meta:
        abstract = True

    @classmethod
    def current(cls):
        row = cls.objects.filter(pk=cls.SINGLETON_ID).first()
        if row is None:
            row, _ = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return row


class LargeTextField(models.TextField):
    """A TextField for large values (webhook bodies) that bulk_create inserts as VALUES rows.

    Django 5.2 bulk-inserts on PostgreSQL through UNNEST(array) when every field allows it; with
    client-side parameter binding psycopg then quotes each array element in Python, about 16 times
    slower than the VALUES form for multi-kilobyte strings (1,000 × 20 kB: 12.9 s against 0.8 s).
    Defining `Field.get_placeholder`, the hook the insert compiler consults, opts the model out of UNNEST
    (`django/db/backends/postgresql/compiler.py`); pinned in tests/test_core_internals.py.
    """

    def get_placeholder(self, value, compiler, connection):
        return "%s"
