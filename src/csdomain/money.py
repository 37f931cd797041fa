"""Money: an exact, non-negative amount in one ISO 4217 currency.

``Money.of("12.30", "CNY")`` is the usual way in. Amounts are :class:`~decimal.Decimal`
values quantized to the currency's minor unit; floats, NaN, infinities, negative amounts
and amounts with more decimals than the currency has are refused with
:class:`~csdomain.errors.ValidationError`. Arithmetic works within one currency only
(:class:`~csdomain.errors.CurrencyMismatch` otherwise), and a subtraction that would go
below zero is refused: money never goes negative.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import attrs

from csdomain.errors import CurrencyMismatch, ValidationError


__all__ = ["MINOR_UNITS", "Money"]

#: Minor-unit digits of currencies that differ from the usual two.
MINOR_UNITS: dict[str, int] = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
}

_CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_DIGITS = 18


_EXPONENTS: dict[str, Decimal] = {}
_LIMITS: dict[str, tuple[int, Decimal]] = {}


def _exponent(currency: str) -> Decimal:
    exponent = _EXPONENTS.get(currency)
    if exponent is None:
        places = MINOR_UNITS.get(currency, 2)
        exponent = Decimal(1).scaleb(-places)
        _LIMITS[currency] = (-places, Decimal(10) ** (_MAX_DIGITS - places))
        _EXPONENTS[currency] = exponent
    return exponent


def _check_currency(currency: object) -> str:
    if currency.__class__ is str and currency in _EXPONENTS:
        return currency
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ValidationError.at("currency", f"not an ISO 4217 code: {currency!r}")
    _exponent(currency)
    return currency


def _to_decimal(amount: object) -> Decimal:
    if isinstance(amount, bool | float):
        kind = type(amount).__name__
        raise ValidationError.at("amount", f"{kind} is not accepted for money, use str or Decimal")
    if isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, str):
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise ValidationError.at("amount", f"not a decimal number: {amount!r}") from None
    else:
        raise ValidationError.at("amount", f"not a decimal amount: {amount!r}")
    if not value.is_finite():
        raise ValidationError.at("amount", f"must be finite, got {value}")
    return value


def _normalise(amount: object, currency: str) -> Decimal:
    exponent = _exponent(currency)
    if amount.__class__ is Decimal:
        value: Decimal = amount
        places, limit = _LIMITS[currency]
        if (
            value.is_finite()
            and not value.is_signed()
            and value.as_tuple().exponent == places
            and value < limit
        ):
            return value
    value = _to_decimal(amount)
    if value < 0:
        raise ValidationError.at("amount", f"must not be negative, got {value}")
    try:
        quantized = value.quantize(exponent, rounding=ROUND_HALF_UP) if value else Decimal(0)
    except InvalidOperation:
        raise ValidationError.at("amount", f"{value} is too large") from None
    if quantized != value:
        places = -exponent.as_tuple().exponent  # type: ignore[operator]
        raise ValidationError.at(
            "amount", f"{value} has more than {places} decimal places for {currency}"
        )
    if len(quantized.as_tuple().digits) > _MAX_DIGITS:
        raise ValidationError.at("amount", f"{value} is too large")
    return quantized.quantize(exponent)


@attrs.frozen(order=False)
class Money:
    """An exact amount of one currency; never negative, never a float."""

    amount: Decimal
    currency: str

    def __attrs_post_init__(self) -> None:
        amount = self.amount
        currency = self.currency
        exponent = _EXPONENTS.get(currency) if currency.__class__ is str else None
        if (
            exponent is not None
            and amount.__class__ is Decimal
            and amount.same_quantum(exponent)
            and not amount.is_signed()
            and amount < _LIMITS[currency][1]
        ):
            return  # a known currency and a finite amount at its exponent: already normal
        currency = _check_currency(currency)
        object.__setattr__(self, "amount", _normalise(amount, currency))

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build an amount from a string, int or Decimal (``Money.of("12.30", "CNY")``)."""
        return cls(amount, currency)  # type: ignore[arg-type]

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``."""
        return cls(Decimal(0), currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """Sum of ``amounts``; zero of ``currency`` when there are none."""
        _check_currency(currency)
        result = Decimal(0)
        for amount in amounts:
            if not isinstance(amount, Money):
                msg = f"expected Money, got {type(amount).__name__}"
                raise ValidationError.at("", msg)
            if amount.currency != currency:
                raise CurrencyMismatch(currency, amount.currency)
            result += amount.amount
        return cls(result, currency)

    @classmethod
    def fits(cls, amount: Decimal, currency: str) -> bool:
        """Whether ``amount`` (e.g. an exact sum of amounts) is below the size limit of money."""
        return amount < _LIMITS[_check_currency(currency)][1]

    @classmethod
    def _exact(cls, amount: Decimal, currency: str) -> Money:
        """An amount already known to be valid (the result of exact arithmetic)."""
        if amount >= _LIMITS[currency][1]:
            raise ValidationError.at("amount", f"{amount} is too large")
        money = object.__new__(cls)
        object.__setattr__(money, "amount", amount)
        object.__setattr__(money, "currency", currency)
        return money

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            msg = f"expected Money, got {type(other).__name__}"
            raise ValidationError.at("", msg)
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money._exact(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        if other.amount > self.amount:
            msg = f"{self} - {other} would be negative"
            raise ValidationError.at("amount", msg)
        return Money._exact(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        """Multiply by a quantity or rate; rates round half-up to the minor unit."""
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            msg = f"can only multiply money by int or Decimal, not {type(factor).__name__}"
            raise ValidationError.at("factor", msg)
        if not Decimal(factor).is_finite() or factor < 0:
            raise ValidationError.at("factor", f"must be finite and not negative: {factor}")
        try:
            product = (self.amount * factor).quantize(
                _exponent(self.currency), rounding=ROUND_HALF_UP
            )
        except InvalidOperation:
            raise ValidationError.at("factor", f"{self} * {factor} is too large") from None
        return Money(product, self.currency)

    __rmul__ = __mul__

    def _cmp(self, other: Money) -> tuple[Decimal, Decimal]:
        self._same(other)
        return self.amount, other.amount

    def __lt__(self, other: Money) -> bool:
        a, b = self._cmp(other)
        return a < b

    def __le__(self, other: Money) -> bool:
        a, b = self._cmp(other)
        return a <= b

    def __gt__(self, other: Money) -> bool:
        a, b = self._cmp(other)
        return a > b

    def __ge__(self, other: Money) -> bool:
        a, b = self._cmp(other)
        return a >= b

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def min(self, other: Money) -> Money:
        """The smaller of two amounts in the same currency."""
        return self if self <= other else other
