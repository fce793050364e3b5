"""A paginator for long, filtered lists of orders: it counts no further than anyone
pages, and it fetches a deep page by its keys first."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class DeskPaginator(Paginator):
    """Like Django's Paginator, with two differences that keep a page's cost
    independent of how many orders match:

    - `count` stops at `max_count`. Counting a million matching rows exactly costs
      more than the page itself, and nobody pages through 400 pages of 25;
      `count_is_capped` tells the template to say "10,000+", and pages beyond the
      cap are not offered (narrow the filter instead).
    - A page other than the first is fetched in two steps inside one query: the
      primary keys of the page (skipping the earlier rows in an index, without
      reading them from the table), then those rows. Same rows, same order.

    Without a QuerySet it behaves exactly like Django's Paginator.
    """

    max_count = 10_000

    def __init__(self, object_list, per_page, *args, max_count: int | None = None, **kwargs):
        if max_count is not None:
            self.max_count = max_count
        super().__init__(object_list, per_page, *args, **kwargs)

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        return min(self._matches, self.max_count)

    @cached_property
    def _matches(self) -> int:
        """How many rows match, counted no further than one past the cap. No ORDER BY
        and no joins: the database stops at the first matches of the cheapest index."""
        return self.object_list.order_by().values("pk")[: self.max_count + 1].count()

    @property
    def count_is_capped(self) -> bool:
        return isinstance(self.object_list, QuerySet) and self._matches > self.max_count

    def page(self, number):
        number = self.validate_number(number)
        if number == 1 or not isinstance(self.object_list, QuerySet):
            return super().page(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=keys), number, self)
