"""``Msg``: a German sentence that keeps its source text and parameters (no app needed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from koopboard.domain import messages
from koopboard.domain.keys import Share
from koopboard.domain.messages import Count, Msg, Number
from koopboard.domain.money import Amount, MoneyError, parse_amount


def test_without_a_renderer_a_msg_is_its_german_sentence() -> None:
    msg = Msg(
        "Am %(day)s fehlen %(sum)s (%(share)s, %(n)s Einwohner, %(x)s %%).",
        day=date(2026, 12, 10),
        sum=Amount(Decimal("1046.99")),
        share=Share(Decimal("28.47")),
        n=Count(16122),
        x=Number(Decimal("33.3333")),
    )
    german = "Am 10.12.2026 fehlen 1.046,99\u00a0€ (28,47\u00a0%, 16.122 Einwohner, 33,3333 %)."
    assert msg == german and str(msg) == german and f"{msg}" == german
    assert msg.text.startswith("Am %(day)s") and msg.params["n"] == Count(16122)


def test_errors_carry_the_msg_and_a_renderer_says_it() -> None:
    with pytest.raises(MoneyError) as caught:
        parse_amount("12,345")
    assert "3 Nachkommastellen" in str(caught.value)
    assert isinstance(caught.value.message, Msg)
    outer = Msg("%(what)s darf nicht negativ sein.", what=Msg("Der Sockelanteil"))
    messages.install(lambda m: "EN: " + m.text % {k: str(v) for k, v in m.params.items()})
    try:
        assert str(outer) == "EN: EN: Der Sockelanteil darf nicht negativ sein."  # nested too
        assert outer == "Der Sockelanteil darf nicht negativ sein."  # the str value stays German
    finally:
        messages.install(None)
    assert str(outer) == "Der Sockelanteil darf nicht negativ sein."
