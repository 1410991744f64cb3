"""Straight-line distances between positions on the map."""

from decimal import Decimal
from math import asin, cos, radians, sin, sqrt

_EARTH_RADIUS_KM = 6371.0


def distance_km(
    lat1: Decimal | float | None,
    lon1: Decimal | float | None,
    lat2: Decimal | float | None,
    lon2: Decimal | float | None,
) -> float | None:
    """Return the great-circle distance in km, or None when a position is unknown."""
    if None in (lat1, lon1, lat2, lon2):
        return None
    phi1, phi2 = radians(float(lat1)), radians(float(lat2))
    d_phi = phi2 - phi1
    d_lambda = radians(float(lon2) - float(lon1))
    h = sin(d_phi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(d_lambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
