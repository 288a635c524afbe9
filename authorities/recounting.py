"""Counts kept in step with the rows they count (feedback's tallies, each
checklist's counts): counted again in the transaction of each write, or,
for many writes together, once at the end of a block."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models, transaction


class Recount:
    """What to count again, and how: `recount(keys)` counts the set of
    `keys` (whatever identifies a count: a checklist's id, an authority and
    term) again and stores them."""

    def __init__(self, name, recount):
        self._touched = ContextVar(name, default=None)
        self._recount = recount

    @contextmanager
    def later(self):
        """Gather the keys that the writes inside touch (the set yielded)
        and count them again once, at the end: for bulk writes, which would
        otherwise count one key again for each row. Inside another, the
        outer one counts. Nothing is counted if the block raises: its
        transaction is being rolled back."""
        outer = self._touched.get()
        if outer is not None:
            yield outer
            return
        touched = set()
        token = self._touched.set(touched)
        try:
            yield touched
        finally:
            self._touched.reset(token)
        self._recount(touched)

    def touched(self, keys):
        """`keys` were written to: counted again now, or at the end of the
        later() block this runs inside."""
        gathering = self._touched.get()
        if gathering is not None:
            gathering.update(keys)
        else:
            self._recount(set(keys))


class RecountedQuerySet(models.QuerySet):
    """A queryset whose bulk writes, which send no signal for each row,
    still keep the counts of what they touch: counted again once, in the
    same transaction. A subclass says how: `recount()`, its Recount;
    `counts_depend_on`, the fields whose update() changes the counts (an
    update of any other leaves them as they are); `recount_key(row)`
    and `recount_keys()`, the keys of one row and of this queryset's rows."""

    counts_depend_on = frozenset()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db), self.recount().later() as touched:
            made = super().bulk_create(objs, *args, **kwargs)
            touched.update(self.recount_key(obj) for obj in objs)
        return made

    def update(self, **values):
        if not self.counts_depend_on & set(values):
            return super().update(**values)
        with transaction.atomic(using=self.db), self.recount().later() as touched:
            touched.update(self.recount_keys())
            changed = super().update(**values)
            touched.update(self.recount_keys())
        return changed
