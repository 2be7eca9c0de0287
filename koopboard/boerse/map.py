"""The directory's map: one dot per result on a server-drawn SVG of Germany (no tiles)."""

from __future__ import annotations

from dataclasses import dataclass

from koopboard.boerse.services import Entry
from koopboard.domain.geo import MAP_HEIGHT, MAP_WIDTH, project


@dataclass(frozen=True)
class Dot:
    number: int  # the result's number in the table beside the map
    x: float
    y: float
    title: str
    register: bool


@dataclass(frozen=True)
class Map:
    width: int
    height: int
    dots: list[Dot]


def map_of(entries: list[Entry], first_number: int = 1) -> Map:
    """Dots for the entries that have a position, numbered like the result list."""
    dots = []
    for number, entry in enumerate(entries, start=first_number):
        if entry.point is None:
            continue
        x, y = project(entry.point)
        dots.append(Dot(number, x, y, entry.title, entry.is_register))
    return Map(MAP_WIDTH, MAP_HEIGHT, dots)
