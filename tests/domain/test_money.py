"""Euro amounts: German parsing with German errors, German formatting, exact cents."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koopboard.domain.money import (
    MAX_AMOUNT,
    MAX_CENTS,
    MoneyError,
    cents,
    format_eur,
    from_cents,
    is_cents,
    parse_amount,
    quantize,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.345,67", "12345.67"),
        ("12345,67", "12345.67"),
        ("12345", "12345.00"),
        (" 12.345,67 € ", "12345.67"),
        ("12.345,67\u00a0€", "12345.67"),
        ("€ 12,5", "12.50"),
        ("12,50 EUR", "12.50"),
        ("0,01", "0.01"),
        ("0,5", "0.50"),
        ("1.234", "1234.00"),  # a dot only groups thousands
        ("1.000.000", "1000000.00"),
        ("+3", "3.00"),
        ("007", "7.00"),
        ("999.999.999.999,99", "999999999999.99"),
        ("-0,00", "0.00"),  # zero is not negative
    ],
)
def test_parses_german_amounts(text: str, expected: str) -> None:
    amount = parse_amount(text)
    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-1.000,00", "-1000.00"), ("\u22125,00 €", "-5.00"), ("-€ 5", "-5.00"), ("- 0,01", "-0.01")],
)
def test_parses_negative_amounts_when_allowed(text: str, expected: str) -> None:
    assert parse_amount(text, allow_negative=True) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "code", "german"),
    [
        ("12,345.67", "english_format", "englischer Schreibweise"),
        ("12345.67", "english_format", "Komma als Dezimaltrennzeichen"),
        ("1e3", "not_a_number", "kein gültiger Betrag"),
        ("NaN", "not_a_number", "kein gültiger Betrag"),
        ("Infinity", "not_a_number", "kein gültiger Betrag"),
        ("-inf", "not_a_number", "kein gültiger Betrag"),
        ("1,234", "too_many_decimals", "3 Nachkommastellen"),
        ("12,345", "too_many_decimals", "höchstens zwei"),
        ("1.23,45", "grouping", "Tausender"),
        ("1.2345", "grouping", "Tausender"),
        ("0.123", "grouping", "Tausender"),
        ("12,", "grouping", "kein gültiger Betrag"),
        ("", "empty", "Bitte einen Betrag eingeben"),
        ("  \u00a0 ", "empty", "Bitte einen Betrag eingeben"),
        ("€", "not_a_number", "kein gültiger Betrag"),
        ("-5", "negative", "negativer Betrag ist hier nicht erlaubt"),
        ("−12,00 €", "negative", "nicht erlaubt"),
        ("1.000.000.000.000,00", "too_large", "höchstens 999.999.999.999,99"),
        ("9" * 60, "too_large", "zu lang"),
        ("zwölf", "not_a_number", "Bitte Ziffern eingeben"),
        ("\u0661\u0662", "not_a_number", "kein gültiger Betrag"),  # Arabic-Indic digits
        ("1 000", "not_a_number", "kein gültiger Betrag"),
        ("--5", "not_a_number", "kein gültiger Betrag"),
    ],
)
def test_refuses_bad_input_in_german(text: str, code: str, german: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_amount(text)
    assert caught.value.code == code
    assert german in caught.value.message
    assert str(caught.value) == caught.value.message


def test_parse_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        parse_amount(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("12345.67", "12.345,67 €"),
        ("0", "0,00 €"),
        ("0.5", "0,50 €"),
        ("-0.50", "-0,50 €"),
        ("-1000", "-1.000,00 €"),
        ("1000000.00", "1.000.000,00 €"),
        ("12.340", "12,34 €"),  # trailing zero beyond the cent is still whole cents
        ("999999999999.99", "999.999.999.999,99 €"),
    ],
)
def test_formats_german(amount: str, text: str) -> None:
    assert format_eur(Decimal(amount)) == text.replace(" €", f"{NBSP}€")


def test_format_refuses_fractions_of_a_cent_and_floats() -> None:
    with pytest.raises(MoneyError, match="mehr als zwei Nachkommastellen"):
        format_eur(Decimal("1.001"))
    with pytest.raises(TypeError):
        format_eur(1.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        format_eur(Decimal("NaN"))


def test_cents_and_back() -> None:
    assert cents(Decimal("12345.67")) == 1234567
    assert cents(Decimal("-0.01")) == -1
    assert cents(Decimal("1E+2")) == 10000
    assert from_cents(-1234567) == Decimal("-12345.67")
    assert from_cents(0).as_tuple().exponent == -2
    with pytest.raises(MoneyError):
        cents(Decimal("0.001"))
    with pytest.raises(TypeError):
        cents(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_cents(True)
    assert is_cents(Decimal("1.50")) and is_cents(Decimal("-3"))
    assert not is_cents(Decimal("0.005")) and not is_cents(Decimal("sNaN"))


@pytest.mark.parametrize(
    ("value", "half_up", "half_even"),
    [
        ("0.005", "0.01", "0.00"),
        ("0.015", "0.02", "0.02"),
        ("-0.005", "-0.01", "-0.00"),
        ("2.344999", "2.34", "2.34"),
        ("7", "7.00", "7.00"),
    ],
)
def test_quantize_rounds_commercially_by_default(value: str, half_up: str, half_even: str) -> None:
    assert quantize(Decimal(value)) == Decimal(half_up)
    assert quantize(Decimal(value), rounding=ROUND_HALF_EVEN) == Decimal(half_even)


amounts_in_cents = st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS)


@settings(max_examples=300, deadline=None)
@given(amounts_in_cents)
def test_format_then_parse_is_identity(value: int) -> None:
    amount = from_cents(value)
    assert parse_amount(format_eur(amount), allow_negative=True) == amount
    assert cents(amount) == value


@settings(max_examples=300, deadline=None)
@given(amounts_in_cents, st.booleans(), st.booleans())
def test_plain_and_grouped_input_agree(value: int, grouped: bool, short_cents: bool) -> None:
    amount = from_cents(value)
    text = format_eur(amount).removesuffix(f"{NBSP}€")
    if not grouped:
        text = text.replace(".", "")
    if short_cents and text.endswith("0"):
        text = text[:-1]  # "12,50" may be typed as "12,5"
    assert parse_amount(text, allow_negative=True) == amount


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=25))
def test_parser_only_answers_with_a_decimal_or_a_money_error(text: str) -> None:
    try:
        amount = parse_amount(text, allow_negative=True)
    except MoneyError as error:
        assert error.message
    else:
        assert is_cents(amount) and abs(amount) <= MAX_AMOUNT
