from django import template
from django.utils import timezone

from followups.selectors import COUNT_CAP, followups_at_a_glance

register = template.Library()


@register.inclusion_tag("followups/_glance.html", takes_context=True)
def followups_glance(context) -> dict:
    """What the callbacks and complaint replies owe now, for whoever makes them."""
    user = context["request"].user
    if not user.has_perm("followups.record_callback"):
        return {"glance": None}
    return {"glance": followups_at_a_glance(user=user, now=timezone.now()), "cap": COUNT_CAP}
