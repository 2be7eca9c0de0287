"""Distances between municipalities from the register's centre coordinates (pure).

Great-circle distance by the haversine formula on a sphere of the Earth's mean radius
(IUGG: 6371.0088 km). Over German distances it differs from the ellipsoid by at most
about 0.5 %, far below what "within 25 km" needs; the register's centres themselves are
the larger uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

EARTH_RADIUS_KM = 6371.0088
# One degree of latitude on that sphere, in km (also the most a degree of longitude spans).
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180


@dataclass(frozen=True, slots=True)
class Point:
    """A position in degrees: ``lat`` (Breitengrad, north) and ``lon`` (Längengrad, east)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not -90 <= self.lat <= 90:
            raise ValueError(f"latitude out of range: {self.lat}")
        if not -180 <= self.lon <= 180:
            raise ValueError(f"longitude out of range: {self.lon}")

    @classmethod
    def of(cls, lat: Decimal | float | None, lon: Decimal | float | None) -> Point | None:
        """A point from stored (possibly missing) coordinates; None if either is missing."""
        if lat is None or lon is None:
            return None
        return cls(float(lat), float(lon))


def great_circle_km(a: Point, b: Point) -> float:
    """Distance along the Earth's surface between ``a`` and ``b``, in kilometres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    d_phi = phi2 - phi1
    d_lambda = math.radians(b.lon - a.lon)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    # min(): rounding may push h a hair above 1 for antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Box:
    """A latitude/longitude rectangle that contains every point within a radius."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, p: Point) -> bool:
        return self.min_lat <= p.lat <= self.max_lat and self.min_lon <= p.lon <= self.max_lon


def bounding_box(center: Point, km: float) -> Box:
    """A rectangle around ``center`` holding every point within ``km`` (an index-friendly
    pre-filter; the exact distance decides). Not for radii reaching a pole."""
    if km < 0:
        raise ValueError("radius must not be negative")
    d_lat = km / KM_PER_DEGREE
    # The widest longitude span is at the box's edge nearest the pole.
    edge = min(abs(center.lat) + d_lat, 89.9)
    d_lon = km / (KM_PER_DEGREE * math.cos(math.radians(edge)))
    return Box(
        center.lat - d_lat,
        center.lat + d_lat,
        max(center.lon - d_lon, -180.0),
        min(center.lon + d_lon, 180.0),
    )


def centroid(points: list[Point]) -> Point | None:
    """The mean position of ``points`` (fine for a few neighbouring municipalities)."""
    if not points:
        return None
    return Point(sum(p.lat for p in points) / len(points), sum(p.lon for p in points) / len(points))


def format_km(km: float) -> int:
    """Whole kilometres as shown ("12 km"); another place is never "0 km" away, at least 1."""
    return max(1, round(km)) if km > 0 else 0


# --- the directory's map: an equirectangular projection of Germany -------------------------

MAP_WEST, MAP_EAST = 5.6, 15.3
MAP_SOUTH, MAP_NORTH = 47.1, 55.2
MAP_SCALE = 60.0  # SVG units per degree of latitude
_MAP_COS = math.cos(math.radians((MAP_SOUTH + MAP_NORTH) / 2))
MAP_WIDTH = round((MAP_EAST - MAP_WEST) * _MAP_COS * MAP_SCALE)
MAP_HEIGHT = round((MAP_NORTH - MAP_SOUTH) * MAP_SCALE)


def project(p: Point) -> tuple[float, float]:
    """SVG (x, y) of ``p`` on the map: north up, distances true to scale at 51° N."""
    x = (p.lon - MAP_WEST) * _MAP_COS * MAP_SCALE
    y = (MAP_NORTH - p.lat) * MAP_SCALE
    return round(x, 1), round(y, 1)
