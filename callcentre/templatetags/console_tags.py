import json

from django import template

register = template.Library()


@register.filter
def address_fill(address) -> str:
    """Return the JSON a "use this address" button fills the console form with."""
    return json.dumps(
        {
            "address": address.address,
            "building": address.building,
            "unit": address.unit,
            "room": address.room,
        },
        ensure_ascii=False,
    )


@register.filter
def name_fill(caller) -> str:
    return json.dumps({"caller_name": caller.name}, ensure_ascii=False)
