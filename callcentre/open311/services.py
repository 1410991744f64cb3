"""What Open311 partners change: a request filed becomes a ticket through the console's own
service, and the administrator issues each partner its key."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber, to_python

from callcentre.models import Open311Partner, Open311Request, Open311Service
from callcentre.open311.selectors import key_hash, service_attributes
from callcentre.services import ticket_caller_remember
from tickets.errors import ApplicationError, invalid
from tickets.names import full_name
from tickets.reference import reference_forget
from tickets.services import ticket_create

MAX_DESCRIPTION = 4000
# The ticket's fields, by the names an Open311 client sent them under.
FIELD_NAMES = {
    "caller_phone": "phone",
    "caller_name": "first_name",
    "description": "description",
    "address": "address_string",
    "building": "attribute[building]",
    "unit": "attribute[unit]",
    "room": "attribute[room]",
    "pipe_diameter": "attribute[pipe_diameter]",
}


@dataclass(frozen=True)
class Issued:
    partner: Open311Partner
    key: str  # shown once: only its hash is kept


@transaction.atomic
def partner_issue(
    *, name: str, channel: str, requests_per_minute: int = 60, key: str | None = None
) -> Issued:
    """Register a partner with a new API key (``key``: a given one, for the demo), and the
    agent user it files requests as."""
    user = get_user_model().objects.create_user(
        username=f"open311-{slugify(name, allow_unicode=True)[:40] or uuid.uuid4().hex[:8]}",
        first_name=name[:150],
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    # The agent role's permissions (the roles are groups by name; see staffing.roles).
    user.groups.add(Group.objects.get_or_create(name="agent")[0])
    key = key or secrets.token_urlsafe(32)
    partner = Open311Partner.objects.create(
        name=name,
        channel=channel,
        requests_per_minute=requests_per_minute,
        user=user,
        key_prefix=key[:8],
        key_hash=key_hash(key),
    )
    return Issued(partner, key)


def partner_key_renew(*, partner: Open311Partner) -> str:
    """Give ``partner`` a new key; the old one stops working at once."""
    key = secrets.token_urlsafe(32)
    reference_forget(Open311Partner, partner.key_hash)
    partner.key_prefix, partner.key_hash = key[:8], key_hash(key)
    partner.save(update_fields=["key_prefix", "key_hash"])
    return key


def _text(data, name: str, limit: int, errors: dict) -> str:
    value = (data.get(name) or "").strip()
    if len(value) > limit:
        errors[name] = _("At most %(limit)d characters.") % {"limit": limit}
    return value


def _coordinate(data, name: str, bound: int, errors: dict) -> Decimal | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors[name] = _("A number in degrees (WGS84).")
        return None
    if not value.is_finite() or abs(value) > bound:
        errors[name] = _("Between -%(bound)d and %(bound)d degrees.") % {"bound": bound}
        return None
    return value.quantize(Decimal("0.000001"))


def _attributes(service: Open311Service, data, errors: dict) -> dict[str, str]:
    """Return the service's attribute values the client sent, checked against its definition."""
    values = {}
    for attribute in service_attributes(service):
        name = f"attribute[{attribute.code}]"
        value = (data.get(name) or "").strip()
        if not value:
            if attribute.required:
                errors[name] = _("Required for this service: %(what)s") % {
                    "what": attribute.description
                }
            continue
        keys = [key for key, _name in attribute.values]
        if keys and value not in keys:
            errors[name] = _("One of: %(keys)s.") % {"keys": ", ".join(keys)}
        elif len(value) > 20:
            errors[name] = _("At most %(limit)d characters.") % {"limit": 20}
        else:
            values[attribute.code] = value
    return values


@transaction.atomic
def open311_request_create(
    *, partner: Open311Partner, service: Open311Service, data, at: datetime
) -> Open311Request:
    """File a request as a ticket, through the service the console uses: the grade the fault
    type suggests, the partner's channel, the SLA clock from now.

    ``data`` holds the spec's fields as sent (``attribute[code]`` for the service's own).
    A location is needed (lat and long, address_string or address_id), and a phone: the
    centre calls every caller back.
    """
    errors: dict[str, str] = {}
    description = _text(data, "description", MAX_DESCRIPTION, errors)
    address = _text(data, "address_string", 200, errors)
    address_id = _text(data, "address_id", 80, errors)
    lat = _coordinate(data, "lat", 90, errors)
    long = _coordinate(data, "long", 180, errors)
    if (lat is None) != (long is None) and not ({"lat", "long"} & errors.keys()):
        errors["long" if lat is not None else "lat"] = _("Latitude and longitude go together.")
    if not (address or address_id or lat is not None) and not errors.keys() & {"lat", "long"}:
        errors["address_string"] = _(
            "Where is it? Give address_string, address_id, or lat and long."
        )
    phone = _text(data, "phone", 32, errors)
    if not phone and "phone" not in errors:
        errors["phone"] = _("A phone number: the centre calls every caller back.")
    elif phone and "phone" not in errors:
        number = to_python(phone, region=settings.PHONENUMBER_DEFAULT_REGION)
        if not (isinstance(number, PhoneNumber) and number.is_valid()):
            errors["phone"] = _("Not a phone number: a mobile, or a landline with its area code.")
    email = _text(data, "email", 254, errors)
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            errors["email"] = _("Not an e-mail address.")
    media_url = _text(data, "media_url", 500, errors)
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            errors["media_url"] = _("Not a web address (http or https).")
    first_name = _text(data, "first_name", 30, errors)
    last_name = _text(data, "last_name", 30, errors)
    device_id = _text(data, "device_id", 80, errors)
    account_id = _text(data, "account_id", 80, errors)
    attributes = _attributes(service, data, errors)
    if errors:
        raise invalid(errors)

    notes = []
    if attributes.get("water_cut") == "yes":
        notes.append(_("The water is off."))
    where = address or (f"{lat}, {long}" if lat is not None else "") or address_id
    try:
        ticket = ticket_create(
            actor=partner.user,
            channel=partner.channel,
            category=service.fault_type.category,
            fault_type=service.fault_type,
            description=" ".join([description, *notes]).strip() or service.name,
            caller_name=_caller_name(first_name, last_name, partner),
            caller_phone=phone,
            address=where,
            building=attributes.get("building", ""),
            unit=attributes.get("unit", ""),
            room=attributes.get("room", ""),
            pipe_diameter=int(attributes["pipe_diameter"])
            if "pipe_diameter" in attributes
            else None,
        )
    except ApplicationError as error:
        if error.code != "invalid":
            raise
        raise ApplicationError(
            error.message,
            fields={
                FIELD_NAMES.get(name, name): messages for name, messages in error.fields.items()
            },
        ) from error
    ticket_caller_remember(ticket=ticket)
    return Open311Request.objects.create(
        ticket=ticket,
        partner=partner,
        service=service,
        token=uuid.uuid4(),
        lat=lat,
        long=long,
        address_id=address_id,
        email=email,
        device_id=device_id,
        account_id=account_id,
        media_url=media_url,
        attributes=attributes,
        requested_at=at,
    )


def _caller_name(first_name: str, last_name: str, partner: Open311Partner) -> str:
    """The caller's name as given, else who they wrote in through: "微信公众号用户"."""
    return full_name(first_name, last_name) or _("%(partner)s user") % {"partner": partner.name}
