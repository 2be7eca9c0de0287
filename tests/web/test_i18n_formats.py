"""The formatting filters resolve the locale's patterns once and give the very text that
flask-babel's per-value functions gave (German and English, summer and winter time, naive
datetimes as UTC, negative amounts, large numbers), and switch with the locale."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import (
    force_locale,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_time,
)

from koopboard import i18n
from koopboard.domain.money import format_eur

DAYS = [date(2026, 12, 3), date(2024, 2, 29), date(1999, 1, 1), date(2031, 7, 14)]
MOMENTS = [
    datetime(2026, 12, 3, 13, 32, tzinfo=UTC),  # winter: 14:32 in Berlin
    datetime(2026, 7, 1, 22, 5, tzinfo=UTC),  # summer: the next day 00:05 in Berlin
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # just before the clocks go forward
    datetime(2026, 3, 29, 1, 0),  # naive: read as UTC, like flask-babel
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC) + timedelta(hours=1),
]
AMOUNTS = ["0", "0.5", "-0.50", "12345.67", "-12345.67", "1000000", "999.99", "-0.01", "7"]
NUMBERS = [0, 7, -7, 999, 1000, 12345, -12345, 10_794, 1_234_567_890]
DECIMALS = [Decimal("1.5"), Decimal("12345.678"), Decimal("-0.25"), Decimal("3.14159")]


@pytest.fixture(params=["de", "en"])
def locale(request, app):  # noqa: ANN001, ANN201
    with app.test_request_context("/"), force_locale(request.param):
        yield request.param


def test_days_and_times_read_as_babel_wrote_them(locale: str) -> None:
    german = locale == "de"
    for day in DAYS:
        assert i18n.format_day(day) == format_date(day, "dd.MM.yyyy" if german else "medium")
        assert i18n.format_long_day(day) == format_date(
            day, "EEEE, d. MMMM yyyy" if german else "full"
        )
    for moment in MOMENTS:
        assert i18n.format_day(moment) == format_datetime(
            moment, "dd.MM.yyyy HH:mm" if german else "short"
        )
        assert i18n.format_clock(moment) == format_time(moment, "HH:mm" if german else "short")
    assert i18n.format_day(None) == "–"


def test_amounts_and_numbers_read_as_babel_wrote_them(locale: str) -> None:
    german = locale == "de"
    for text in AMOUNTS:
        amount = Decimal(text)
        expected = (
            format_eur(amount)
            if german
            else format_currency(amount, "EUR", format="¤#,##0.00", currency_digits=False)
        )
        assert i18n.format_money(amount) == expected, text
    for number in [*NUMBERS, *DECIMALS]:
        assert i18n.format_number(number) == format_decimal(number), number
    assert i18n.format_money(None) == i18n.format_number(None) == "–"


def test_the_examples_of_the_docstrings(app) -> None:  # noqa: ANN001
    with app.test_request_context("/"):
        assert i18n.format_day(date(2026, 12, 3)) == "03.12.2026"
        assert i18n.format_day(MOMENTS[0]) == "03.12.2026 14:32"
        assert i18n.format_money(Decimal("12345.67")) == "12.345,67\u00a0€"
        assert i18n.format_number(10_794) == "10.794"
        with force_locale("en"):
            assert i18n.format_day(date(2026, 12, 3)) == "Dec 3, 2026"
            assert i18n.format_money(Decimal("-12345.67")) == "-€12,345.67"
            assert i18n.format_number(10_794) == "10,794"
        # Back in German after the forced locale: the per-request cache follows the locale.
        assert i18n.format_number(10_794) == "10.794"


def test_outside_a_request_german(app) -> None:  # noqa: ANN001
    assert i18n.format_day(date(2026, 12, 3)) == "03.12.2026"
    with app.app_context():
        assert i18n.format_money(Decimal("1")) == "1,00\u00a0€"
