"""`core.db.as_prefetched` sets two QuerySet internals; these tests pin what it relies on."""
import pytest
from django.db.models import QuerySet

from core.db import as_prefetched
from invoices.models import Fee, FeeTax

from . import factories as f

pytestmark = pytest.mark.django_db


def test_a_prefetched_relation_is_read_from_memory(django_assert_num_queries):
    fee = f.fee(f.invoice(), taxes=[f.tax(rate="10")])
    applied = list(FeeTax.objects.filter(fee=fee))
    fee = Fee.objects.get(pk=fee.pk)
    fee._prefetched_objects_cache = {"applied_taxes": as_prefetched(FeeTax, applied)}

    with django_assert_num_queries(0):
        assert list(fee.applied_taxes.all()) == applied
        assert fee.applied_taxes.count() == 1


def test_the_queryset_internals_it_sets_still_exist():
    queryset = QuerySet(model=FeeTax)
    assert queryset._result_cache is None and queryset._prefetch_done is False
    assert list(as_prefetched(FeeTax, [])) == []
