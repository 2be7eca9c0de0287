"""Hostile input never reaches the database as a 500: NUL bytes, overlong text, huge numbers.

Every int and string part of every URL rule, every field of every form (the names come
from the route table's data and from the form page itself) and the query arguments of every
page get NUL bytes, overlong text, numbers beyond PostgreSQL's INTEGER (and beyond BIGINT)
and negative numbers. Nothing may answer 5xx; NUL answers 422, an id out of range 404.
The database is PostgreSQL whenever it is reachable (always in CI).
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter, UnicodeConverter
from werkzeug.test import TestResponse

from koopboard.inputs import INT32_MAX, BaseForm, bounded_int
from tests.conftest import KoopClient
from tests.web.test_authorization import (  # noqa: F401 (fixtures)
    LOGIN,
    ROUTES,
    Call,
    World,
    auth_app,
    world,
)

NUL = "Ab\x00cd"
OVERLONG = "x" * 30_000
HUGE = "9" * 30  # beyond BIGINT, too
JUST_TOO_BIG = str(INT32_MAX + 1)
NEGATIVE = "-" + JUST_TOO_BIG
EVIL_FIELD_VALUES = {
    "nul": NUL,
    "overlong": OVERLONG,
    "huge": HUGE,
    "int32+1": JUST_TOO_BIG,
    "negative": NEGATIVE,
}
QUERY_ARGS = ("seite", "jahr", "q", "query", "status", "beispiel", "lang", "for_partner", "next")
REFUSED = (403, 404, LOGIN)
ACTOR_ORDER = ("anonymous", "lead", "treasurer", "member", "admin")


def _assert_no_server_error(response: TestResponse, where: str) -> None:
    body = response.get_data().decode("utf-8", "replace")
    assert response.status_code < 500, f"{where}: {response.status_code} {body[:300]}"


def _actor_for(call: Call) -> str | None:
    """The first actor whom this call lets through (the form is actually processed)."""
    for actor in ACTOR_ORDER:
        if call.expect.get(actor) not in REFUSED:
            return actor
    return None


class _FieldNames(HTMLParser):
    """Names and current values of the inputs, selects and textareas of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                self.values.setdefault(name, "")
            else:
                self.values[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select:
            if "selected" in a or not self.values.get(self._select):
                self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def _form_values(client: KoopClient, path: str) -> dict[str, str]:
    page = client.get(path)
    if page.status_code != 200 or page.mimetype != "text/html":
        return {}
    parser = _FieldNames()
    parser.feed(page.get_data(as_text=True))
    parser.values.pop("csrf_token", None)
    return parser.values


POST_CALLS = [
    pytest.param(endpoint, index, id=f"{endpoint}-{call.label or index}")
    for endpoint, calls in ROUTES.items()
    for index, call in enumerate(calls)
    if call.method == "POST" and _actor_for(call) is not None
]
GET_CALLS = [
    pytest.param(endpoint, index, id=f"{endpoint}-{index}")
    for endpoint, calls in ROUTES.items()
    for index, call in enumerate(calls)
    if call.method == "GET" and _actor_for(call) is not None
]


@pytest.mark.parametrize(("endpoint", "index"), POST_CALLS)
def test_every_form_field_survives_hostile_values(
    world: World,  # noqa: F811
    endpoint: str,
    index: int,
) -> None:
    call = ROUTES[endpoint][index]
    actor = _actor_for(call)
    client = world.client_for(actor)
    token = client.csrf_token()

    def fresh() -> tuple[str, dict[str, str]]:
        """The path and valid form data, with fresh rows (an accepted value may use one up)."""
        values = world.values()
        if call.prepare:
            values.update(call.prepare(world))
        path = call.path.format(**values).split("#")[0]
        data = {**_form_values(client, path), **(call.data(world, values) if call.data else {})}
        return path, {k: v for k, v in data.items() if isinstance(v, str)}  # uploads: apart

    path, base = fresh()
    for name in sorted(base):
        if call.prepare:
            path, base = fresh()
        for label, evil in EVIL_FIELD_VALUES.items():
            response = client.post(path, data={**base, name: evil, "csrf_token": token})
            where = f"POST {path} as {actor}, {name}={label}"
            _assert_no_server_error(response, where)
            if label == "nul":
                assert response.status_code == 422, where
                assert "Steuerzeichen" in response.get_data(as_text=True), where


@pytest.mark.parametrize(("endpoint", "index"), GET_CALLS)
def test_every_page_survives_hostile_query_arguments(
    world: World,  # noqa: F811
    endpoint: str,
    index: int,
) -> None:
    call = ROUTES[endpoint][index]
    actor = _actor_for(call)
    client = world.client_for(actor)
    values = world.values()
    if call.prepare:
        values.update(call.prepare(world))
    path = call.path.format(**values).split("#")[0].split("?")[0]
    for label, evil in EVIL_FIELD_VALUES.items():
        query = {arg: evil for arg in QUERY_ARGS}
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, query_string=query, headers=headers)
            where = f"GET {path}?…={label} as {actor} {headers}"
            _assert_no_server_error(response, where)
            if label == "nul":
                assert response.status_code == 422, where


def _sample_values(w: World) -> dict[str, Any]:
    """Real ids of cooperation A for the URL parts a rule does not vary."""
    return {
        "cooperation_id": w.coop_a,
        "partner_id": w.partner_p,
        "municipality_id": w.municipality_ids["P"],
        "year": 2026,
    }


def _url_cases(app: Flask) -> list[tuple[str, str, str, str]]:
    cases = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for name, converter in rule._converters.items():
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if isinstance(converter, IntegerConverter):
                    cases += [(rule.endpoint, method, name, v) for v in (JUST_TOO_BIG, HUGE)]
                elif isinstance(converter, UnicodeConverter):
                    cases += [(rule.endpoint, method, name, v) for v in (NUL, "x" * 5000)]
    return cases


def test_every_url_converter_refuses_out_of_range_ids_and_nul(
    auth_app: Flask,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    """Ids beyond INTEGER and string parts with NUL or 5,000 characters: 404, never 500."""
    cases = _url_cases(auth_app)
    assert len({c[0] for c in cases if c[3] == HUGE}) >= 10  # about ten such URLs
    clients = {actor: world.client_for(actor) for actor in ("anonymous", "lead", "admin")}
    tokens = {actor: client.csrf_token() for actor, client in clients.items()}
    with auth_app.test_request_context():
        adapter = auth_app.url_map.bind("localhost")
        for endpoint, method, name, evil in cases:
            rule = next(r for r in auth_app.url_map.iter_rules(endpoint))
            values = {}
            for arg, converter in rule._converters.items():
                if arg == name:
                    values[arg] = evil
                elif isinstance(converter, IntegerConverter):
                    values[arg] = _sample_values(world).get(arg, 1)
                elif hasattr(converter, "items"):  # any(...)
                    values[arg] = sorted(converter.items)[0]
                else:
                    values[arg] = "ungueltig"
            # build() only formats; it never checks the bounds, so the huge id gets through.
            path = adapter.build(endpoint, values, method=method)
            for actor, client in clients.items():
                if method == "GET":
                    response = client.get(path)
                else:
                    response = client.post(path, data={"csrf_token": tokens[actor]})
                where = f"{method} {path[:120]} as {actor}"
                _assert_no_server_error(response, where)
                # 405: werkzeug names the methods of a same-shaped rule before it converts.
                assert response.status_code in (404, 405), where


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7", 7),
        (" 12 ", 12),
        ("0", 1),
        ("-3", None),
        ("1e9", None),
        ("²", None),
        ("", None),
        (None, None),
        (HUGE, INT32_MAX),
        ("000000000000000000000042", 42),
    ],
)
def test_bounded_int_clamps_or_gives_the_default(raw: str | None, expected: int | None) -> None:
    assert bounded_int(raw, None) == expected


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def test_every_form_of_the_app_is_a_base_form(auth_app: Flask) -> None:  # noqa: F811
    """New forms get the edge checks too: each form class of koopboard derives BaseForm."""
    forms = [f for f in _all_subclasses(FlaskForm) if f.__module__.startswith("koopboard.")]
    assert len(forms) > 20
    strays = [f"{f.__module__}.{f.__qualname__}" for f in forms if not issubclass(f, BaseForm)]
    assert strays == []


def test_form_fields_get_the_message_next_to_them(auth_app: Flask) -> None:  # noqa: F811
    """Overlong text and numbers beyond INTEGER: a German message at the field, 422 to htmx."""
    from koopboard.costs.books.forms import CostForm

    with auth_app.test_request_context(
        method="POST",
        data={"text": "y" * 301, "budget_year": HUGE, "amount": "1,00"},
    ):
        form = CostForm(meta={"csrf": False})
        assert not form.validate()
        assert form.text.errors == ["Höchstens 300 Zeichen."]
        assert form.budget_year.errors == ["Diese Zahl ist zu groß."]
