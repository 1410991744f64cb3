"""Reference data that every new ticket reads and supervisors rarely edit, through the cache.

SLA policies, fault types and communities (and what other apps register: Open311 partners by
their key) are read once a minute at most instead of on every call. Saving or deleting one
forgets it at once in the cache the edit went through; a process whose cache is its own may
see the edit up to ``REFERENCE_TTL`` seconds late, while with a shared cache (Redis,
``CACHE_URL``) it applies to the next request.
"""

from django.apps import apps
from django.core.cache import cache
from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete, post_save

REFERENCE_TTL = 60

# The models read this way, and the field each is looked up by.
_LOOKUPS = {
    "tickets.slapolicy": "grade",
    "tickets.faulttype": "code",
    "dispatch.community": "pk",
}


def _key(label: str, value) -> str:
    return f"reference:{label}:{value}"


def reference_get(queryset: QuerySet, value) -> Model | None:
    """Return the row of ``queryset`` whose lookup field equals ``value``, or None."""
    label = queryset.model._meta.label_lower
    key = _key(label, value)
    row = cache.get(key)
    if row is None:
        row = queryset.filter(**{_LOOKUPS[label]: value}).first()
        if row is not None:
            cache.set(key, row, timeout=REFERENCE_TTL)
    return row


def reference_forget(model: type[Model], value) -> None:
    """Forget the row of ``model`` looked up by ``value``: for a change of the lookup field
    itself, whose old value a save cannot know."""
    cache.delete(_key(model._meta.label_lower, value))


def _forget(sender, instance, **kwargs) -> None:
    reference_forget(sender, getattr(instance, _LOOKUPS[sender._meta.label_lower]))


def connect() -> None:
    for label, field in list(_LOOKUPS.items()):
        reference_register(label, field)


def reference_register(label: str, field: str) -> None:
    """Read rows of the model ``label`` by ``field`` through the cache, forgotten on change."""
    _LOOKUPS[label] = field
    model = apps.get_model(label)
    for signal in (post_save, post_delete):
        signal.connect(_forget, sender=model, dispatch_uid=f"reference-{label}-{signal}")
