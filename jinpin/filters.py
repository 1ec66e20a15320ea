"""The FilterSet base of every list page and export: filters take ``scope=`` and every
model-choice filter over a registered model offers only in-scope rows (jinpin.scope)."""

import django_filters

from .scope import ScopedFilterSetMixin


class ScopedFilterSet(ScopedFilterSetMixin, django_filters.FilterSet):
    pass
