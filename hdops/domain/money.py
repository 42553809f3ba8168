"""Money as people read it: rounded and printed in the currency's own minor unit.

One place decides how many decimals an amount has, so the same value never
appears as "0.4" in one message, "0.40" in another and "0.4000" in a file:

* a currency has the number of decimals ISO 4217 gives it (its *minor unit*):
  2 for USD and EUR, 0 for JPY and KRW, 3 for KWD and BHD; codes not in the
  short list below have 2, the common case;
* an amount (a statement line, a total, an adjustment, an effective rate) is
  rounded half-up to that minor unit once, where it is priced (`round_money`),
  and printed with exactly that many decimals (`format_money`, `money_text`);
* a unit price (a per-task or hourly rate) is printed with at least the
  currency's decimals and more only when the rate really has them (a rate of
  0.125 USD per task stays 0.125): rounding a rate for display would make the
  line "10 × 0.13 = 1.25" look wrong (`format_rate`).

Amounts and rates people type are read by one parser, `parse_decimal`: ASCII
digits with an optional sign and decimal point, at most 4 decimals (the store
keeps 4), and less than 10**14 in size (NUMERIC(18, 4) holds 14 digits before
the point). Exponents (1e3), NaN, infinity and other scripts' digits are
refused: each was accepted once and stored as something nobody typed.

The table is data from ISO 4217 (the currencies whose minor unit is not 2).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from hdops.errors import InvalidInput

MONEY_PLACES = 4  # decimals the store keeps (hdops.store.types.Money)
MONEY_LIMIT = Decimal(10) ** (18 - MONEY_PLACES)  # NUMERIC(18, 4): below 10**14
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)

DEFAULT_DECIMALS = 2
_DECIMALS: dict[str, int] = {
    # no minor unit
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # thousandths
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # ten-thousandths
    "CLF": 4,
    "UYW": 4,
}


def decimals(currency: str) -> int:
    """How many decimals amounts in `currency` have (ISO 4217 minor unit)."""
    return _DECIMALS.get(currency.upper(), DEFAULT_DECIMALS)


def quantum(currency: str) -> Decimal:
    """The smallest amount of `currency`: 0.01 for USD, 1 for JPY."""
    return Decimal(1).scaleb(-decimals(currency))


def round_money(value: Decimal, currency: str = "USD") -> Decimal:
    """Half-up to the currency's minor unit: the one rounding step of a priced line."""
    return value.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def money_text(value: Decimal, currency: str = "USD", *, grouped: bool = False) -> str:
    """An amount with exactly the currency's decimals: `0.40`, `1,250.00` (grouped)
    or `1250` JPY. For files and JSON, ungrouped."""
    rounded = round_money(value, currency)
    return f"{rounded:,f}" if grouped else f"{rounded:f}"


def format_money(value: Decimal, currency: str = "USD") -> str:
    """An amount for people: the currency's decimals, thousands grouped."""
    return money_text(value, currency, grouped=True)


def _rate_quantized(value: Decimal, currency: str) -> Decimal:
    places = decimals(currency)
    exponent = value.normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return value.quantize(Decimal(1).scaleb(-max(places, needed)))


def rate_text(value: Decimal, currency: str = "USD") -> str:
    """A unit price for files and JSON: at least the currency's decimals, more only
    when the rate has them (0.40, 0.125, 1500 JPY), never a float's noise."""
    return f"{_rate_quantized(value, currency):f}"


def format_rate(value: Decimal, currency: str = "USD") -> str:
    """A unit price for people, thousands grouped (see `rate_text`)."""
    return f"{_rate_quantized(value, currency):,f}"


def parse_decimal(
    text: str | Decimal | int, what: str = "amount", *, places: int = MONEY_PLACES
) -> Decimal:
    """An amount or rate as typed (`12.50`, `-5`, `0.125`), or one `InvalidInput`
    saying what is wrong with it. See the module docstring for the rule."""
    shown = str(text)[:40]
    if isinstance(text, Decimal | int) and not isinstance(text, bool):
        value = Decimal(text)
    else:
        raw = str(text).strip()
        if not _DECIMAL_RE.fullmatch(raw):
            raise InvalidInput(
                f"{what} must be a decimal amount such as 12.50 (digits 0-9, a point, "
                f"at most {places} decimals), not {shown!r}"
            )
        value = Decimal(raw)
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a finite amount, not {shown!r}")
    if abs(value) >= MONEY_LIMIT:
        raise InvalidInput(f"{what} must be less than {MONEY_LIMIT:,f} in size")
    try:
        exact = value == value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        exact = False
    if not exact:
        raise InvalidInput(f"{what} has at most {places} decimal places, not {shown!r}")
    return value
