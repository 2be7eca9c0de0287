"""Euro amounts: German input, German output, exact cents — Decimal only, never float.

Amounts are stored as NUMERIC(14,2), so every amount here has at most two decimals and an
absolute value of at most 999.999.999.999,99 €.

German input rules (``parse_amount``):

- the decimal separator is the comma; a dot is only a thousands separator and must group
  exactly three digits ("12.345,67", "1.000.000"); "12345,67" and "12345" are fine too;
- at most two decimals; "1,234" is therefore an error, not 1.234 € or 1234 € — a German
  reader would take it as 1,234 (three decimals), an English one as 1234, so we refuse to
  guess and ask for a clear amount;
- English notation ("12,345.67", "12345.67"), exponents ("1e3"), "NaN" and "Infinity" are
  refused with a German message;
- surrounding blanks (also non-breaking ones), a leading "+" and a leading or trailing "€"
  (or "EUR") are allowed; a minus is "-" or the typographic "−" (U+2212) and is only
  accepted when the caller allows negative amounts (grants, cancellations).

Output (``format_eur``): "12.345,67 €" with a non-breaking space before "€" and "-" for
negatives — the same text Babel renders for de_DE, so pages, exports and our own
formatting agree, and ``parse_amount`` reads it back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation, Rounded

from koopboard.domain.messages import Msg

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # NUMERIC(14,2)
MAX_CENTS = 99_999_999_999_999
NBSP = "\u00a0"
MINUS_SIGNS = "-\u2212"

# Wide enough for any NUMERIC(14,2) and its products; traps make any rounding an error.
EXACT = Context(prec=60, traps=[InvalidOperation, Inexact, Rounded])

_MAX_INPUT_LENGTH = 40  # "-999.999.999.999,99 €" has 21 characters; longer is never valid
_BLANKS = " \t\u00a0\u202f\u2007"
_GERMAN = re.compile(
    r"(?P<int>[1-9][0-9]{0,2}(?:\.[0-9]{3})+|[0-9]+)(?:,(?P<frac>[0-9]+))?", re.ASCII
)
_ENGLISH = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+|[0-9]+\.[0-9]{1,2}", re.ASCII)
_DIGITS_AND_SEPARATORS = re.compile(r"[0-9][0-9.,]*", re.ASCII)


class MoneyError(ValueError):
    """An amount that is not a valid euro amount; the message is German and user-facing."""

    def __init__(self, message: Msg, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def parse_amount(text: str, *, allow_negative: bool = False) -> Decimal:
    """Parse a German euro amount ("12.345,67", " 12.345,67 € ") into a Decimal with 2 places."""
    if not isinstance(text, str):
        raise TypeError(f"parse_amount expects str, got {type(text).__name__}")
    raw = text.strip(_BLANKS)
    if not raw:
        raise MoneyError(Msg("Bitte einen Betrag eingeben."), "empty")
    if len(raw) > _MAX_INPUT_LENGTH:
        raise MoneyError(
            Msg(
                "Die Eingabe ist zu lang für einen Betrag; höchstens %(max)s sind möglich.",
                max=Amount(MAX_AMOUNT),
            ),
            "too_large",
        )
    body = raw
    if body.endswith("€"):
        body = body[:-1].rstrip(_BLANKS)
    elif body[-3:].upper() == "EUR":
        body = body[:-3].rstrip(_BLANKS)
    elif body.startswith("€"):
        body = body[1:].lstrip(_BLANKS)
    negative = False
    if body and body[0] in MINUS_SIGNS:
        negative = True
        body = body[1:].lstrip(_BLANKS)
    elif body.startswith("+"):
        body = body[1:].lstrip(_BLANKS)
    if body.startswith("€"):  # "-€ 5,00" / "- € 5,00"
        body = body[1:].lstrip(_BLANKS)

    match = _GERMAN.fullmatch(body)
    if match is None:
        raise MoneyError(_explain_invalid(body, raw), _invalid_code(body))
    frac = match["frac"] or ""
    if len(frac) > 2:
        raise MoneyError(
            Msg(
                "„%(raw)s“ hat %(n)s Nachkommastellen; ein Eurobetrag hat höchstens zwei "
                "(Cent). Tausender bitte mit Punkt trennen, z. B. 1.234,56.",
                raw=raw,
                n=len(frac),
            ),
            "too_many_decimals",
        )
    digits = match["int"].replace(".", "")
    amount = Decimal(f"{digits}.{frac.ljust(2, '0')}")
    if amount > MAX_AMOUNT:
        raise MoneyError(
            Msg("Der Betrag ist zu groß; höchstens %(max)s sind möglich.", max=Amount(MAX_AMOUNT)),
            "too_large",
        )
    if negative and amount:
        if not allow_negative:
            raise MoneyError(
                Msg(
                    "Ein negativer Betrag ist hier nicht erlaubt. Förderungen und Stornos "
                    "werden als eigene Buchung erfasst."
                ),
                "negative",
            )
        amount = -amount
    return amount


def _invalid_code(body: str) -> str:
    """Classify an unparsable amount for callers that react by code."""
    if _ENGLISH.fullmatch(body):
        return "english_format"
    if _DIGITS_AND_SEPARATORS.fullmatch(body):
        return "grouping"
    return "not_a_number"


def _explain_invalid(body: str, raw: str) -> Msg:
    """Say in German why ``body`` is not a German amount."""
    code = _invalid_code(body)
    if code == "english_format":
        return Msg(
            "„%(raw)s“ ist in englischer Schreibweise. Bitte Komma als Dezimaltrennzeichen und "
            "Punkt als Tausendertrennzeichen verwenden, z. B. 12.345,67.",
            raw=raw,
        )
    if code == "grouping":
        return Msg(
            "„%(raw)s“ ist kein gültiger Betrag: Der Punkt trennt nur Tausender (immer drei "
            "Ziffern), das Komma die Cent, z. B. 12.345,67 oder 12345,67.",
            raw=raw,
        )
    return Msg(
        "„%(raw)s“ ist kein gültiger Betrag. Bitte Ziffern eingeben, z. B. 12.345,67.", raw=raw
    )


def is_cents(amount: Decimal) -> bool:
    """Tell whether ``amount`` is a finite Decimal that is a whole number of cents."""
    return (
        isinstance(amount, Decimal)
        and amount.is_finite()
        and 100 % amount.as_integer_ratio()[1] == 0
    )


def cents(amount: Decimal) -> int:
    """Return the amount as an int number of cents; refuse anything that is not whole cents."""
    if isinstance(amount, float) or not isinstance(amount, Decimal):
        raise TypeError(f"cents expects Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise MoneyError(Msg("„%(raw)s“ ist kein Betrag.", raw=amount), "not_a_number")
    numerator, denominator = amount.as_integer_ratio()
    scaled, rest = divmod(numerator * 100, denominator)
    if rest:
        raise MoneyError(
            Msg(
                "%(raw)s hat mehr als zwei Nachkommastellen; Beträge sind auf den Cent genau.",
                raw=amount,
            ),
            "too_many_decimals",
        )
    return scaled


def from_cents(value: int) -> Decimal:
    """Return the Decimal euro amount (two places) for an int number of cents."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"from_cents expects int, got {type(value).__name__}")
    return EXACT.multiply(Decimal(value), CENT)


def quantize(amount: Decimal, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to whole cents, commercially (half away from zero) unless told otherwise."""
    if isinstance(amount, float) or not isinstance(amount, Decimal):
        raise TypeError(f"quantize expects Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise MoneyError(Msg("„%(raw)s“ ist kein Betrag.", raw=amount), "not_a_number")
    return amount.quantize(CENT, rounding=rounding, context=Context(prec=60))


@dataclass(frozen=True)
class Amount:
    """An amount inside a sentence (``messages.Msg``); German: ``format_eur``."""

    value: Decimal

    def __str__(self) -> str:
        return format_eur(self.value)


def format_eur(amount: Decimal) -> str:
    """Format whole cents the German way: "12.345,67 €", "-0,50 €" (non-breaking space)."""
    value = cents(amount)
    sign = "-" if value < 0 else ""
    euros, rest = divmod(abs(value), 100)
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d}{NBSP}€"
