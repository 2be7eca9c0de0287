"""Great-circle distances from the register's centre coordinates."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koopboard.domain.geo import (
    Point,
    bounding_box,
    centroid,
    format_km,
    great_circle_km,
)

# Centres exactly as the Gemeindeverzeichnis (Stand 31.12.2019) gives them.
MERCHWEILER = Point(49.358969, 7.058254)
ILLINGEN = Point(49.377607, 7.051397)
OTTWEILER = Point(49.402493, 7.162070)
EPPELBORN = Point(49.406885, 6.967465)
SAARLOUIS = Point(49.315060, 6.751220)
FLENSBURG = Point(54.782520, 9.437510)
HAMBURG = Point(53.550678, 9.996970)
MUENCHEN = Point(48.137683, 11.575997)
BERLIN = Point(52.517670, 13.405538)

lat = st.floats(min_value=47, max_value=55.5)
lon = st.floats(min_value=5.5, max_value=15.5)
points = st.builds(Point, lat, lon)


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        # Reference values by the spherical law of cosines (another formula, same sphere);
        # Berlin–München is the 504 km usually quoted as the straight-line distance.
        (MERCHWEILER, ILLINGEN, 2.131),
        (MERCHWEILER, OTTWEILER, 8.939),
        (EPPELBORN, SAARLOUIS, 18.695),
        (BERLIN, MUENCHEN, 504.007),
        (HAMBURG, BERLIN, 255.189),
        (FLENSBURG, MUENCHEN, 753.486),
    ],
)
def test_known_pairs(a: Point, b: Point, km: float) -> None:
    assert great_circle_km(a, b) == pytest.approx(km, abs=0.001)


def test_one_degree_of_latitude_is_111_km() -> None:
    assert great_circle_km(Point(50, 8), Point(51, 8)) == pytest.approx(111.195, abs=0.001)


def test_a_degree_of_longitude_shrinks_with_latitude() -> None:
    at_50 = great_circle_km(Point(50, 8), Point(50, 9))
    assert at_50 == pytest.approx(111.195 * math.cos(math.radians(50)), rel=1e-4)


@given(points, points)
def test_symmetric_and_never_negative(a: Point, b: Point) -> None:
    assert great_circle_km(a, b) == pytest.approx(great_circle_km(b, a))
    assert great_circle_km(a, b) >= 0


@given(points, points, points)
def test_triangle_inequality(a: Point, b: Point, c: Point) -> None:
    assert great_circle_km(a, c) <= great_circle_km(a, b) + great_circle_km(b, c) + 1e-9


@given(points, points, st.floats(min_value=0, max_value=500))
def test_the_box_holds_every_point_within_the_radius(center: Point, p: Point, km: float) -> None:
    if great_circle_km(center, p) <= km:
        assert bounding_box(center, km).contains(p)


def test_the_box_is_not_much_larger_than_the_radius() -> None:
    box = bounding_box(MERCHWEILER, 25)
    assert box.max_lat - box.min_lat == pytest.approx(50 / 111.195, rel=1e-6)
    assert not box.contains(Point(MERCHWEILER.lat + 0.3, MERCHWEILER.lon))


def test_points_refuse_impossible_coordinates() -> None:
    with pytest.raises(ValueError):
        Point(91, 0)
    with pytest.raises(ValueError):
        Point(0, 181)
    assert Point.of(None, 7) is None


def test_centroid_is_the_mean() -> None:
    assert centroid([Point(49, 7), Point(51, 9)]) == Point(50, 8)
    assert centroid([]) is None


@pytest.mark.parametrize(("km", "shown"), [(0, 0), (0.2, 1), (1.49, 1), (1.5, 2), (24.6, 25)])
def test_shown_kilometres(km: float, shown: int) -> None:
    assert format_km(km) == shown
