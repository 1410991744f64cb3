"""Keep the cached SLA policies in step with the table the supervisor edits."""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

# A process whose cache is its own may use an edited policy for this long after the edit;
# with a shared cache (Redis) the edit applies to the next ticket.
POLICY_TTL = 60


def policy_cache_key(grade: str) -> str:
    return f"sla-policy:{grade}"


def _policy_changed(instance, **kwargs) -> None:
    cache.delete(policy_cache_key(instance.grade))


def connect() -> None:
    from tickets.models import SlaPolicy

    for signal in (post_save, post_delete):
        signal.connect(_policy_changed, sender=SlaPolicy, dispatch_uid=f"sla-policy-{signal}")
