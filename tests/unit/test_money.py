"""Money: exact, non-negative amounts in one currency (csdomain.money)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import CurrencyMismatch, ValidationError
from csdomain.money import Money
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_kernel import currencies, money


def _paths(err: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [path for path, _ in err.value.errors]


# -- parsing and quantizing -------------------------------------------------------------


def test_money_of_parses_strings_ints_and_decimals() -> None:
    assert Money.of("12.30", "CNY").amount == Decimal("12.30")
    assert Money.of(12, "CNY").amount == Decimal("12.00")
    assert Money.of(Decimal("12.3"), "CNY").amount == Decimal("12.30")
    assert Money.of(" 7.5 ", "USD") == Money.of("7.50", "USD")


@pytest.mark.parametrize(
    ("currency", "amount", "text"),
    [("CNY", "5", "5.00"), ("JPY", "5", "5"), ("KWD", "5", "5.000"), ("KWD", "0.125", "0.125")],
)
def test_amount_is_quantized_to_the_currency_minor_unit(
    currency: str, amount: str, text: str
) -> None:
    assert str(Money.of(amount, currency).amount) == text
    assert str(Money.of(amount, currency)) == f"{text} {currency}"


def test_negative_zero_is_plain_zero() -> None:
    assert Money.of("-0.00", "CNY") == Money.zero("CNY")
    assert not Money.of("-0", "CNY").amount.is_signed()


@pytest.mark.parametrize(
    "amount",
    [1.5, float("nan"), True],
    ids=["float", "float-nan", "bool"],
)
def test_floats_and_bools_are_refused_as_amounts(amount: object) -> None:
    with pytest.raises(ValidationError) as err:
        Money.of(amount, "CNY")  # type: ignore[arg-type]
    assert _paths(err) == ["amount"]


@pytest.mark.parametrize(
    "amount",
    ["NaN", "sNaN", "Infinity", "-Infinity", Decimal("NaN"), Decimal("Infinity")],
)
def test_nan_and_infinities_are_refused(amount: str | Decimal) -> None:
    with pytest.raises(ValidationError) as err:
        Money.of(amount, "CNY")
    assert _paths(err) == ["amount"]


@pytest.mark.parametrize("amount", ["-0.01", -1, Decimal("-5")])
def test_negative_amounts_are_refused(amount: str | int | Decimal) -> None:
    with pytest.raises(ValidationError, match="negative") as err:
        Money.of(amount, "CNY")
    assert _paths(err) == ["amount"]


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.001", "CNY"), ("1.5", "JPY"), ("0.0001", "KWD")]
)
def test_more_decimals_than_the_currency_has_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(ValidationError, match="decimal places") as err:
        Money.of(amount, currency)
    assert _paths(err) == ["amount"]


@pytest.mark.parametrize("amount", ["", "12,30", "abc", "1.2.3", None, [1]])
def test_non_numbers_are_refused(amount: object) -> None:
    with pytest.raises(ValidationError) as err:
        Money.of(amount, "CNY")  # type: ignore[arg-type]
    assert _paths(err) == ["amount"]


@pytest.mark.parametrize("amount", ["1e30", "1e999999", "1" * 40, Decimal("9e99")])
def test_amounts_too_large_to_store_are_refused(amount: str | Decimal) -> None:
    with pytest.raises(ValidationError, match="too large") as err:
        Money.of(amount, "CNY")
    assert _paths(err) == ["amount"]


@pytest.mark.parametrize("currency", ["cny", "CN", "CNYY", "", "12C", None, 156])
def test_bad_currency_codes_are_refused(currency: object) -> None:
    with pytest.raises(ValidationError) as err:
        Money.of("1", currency)  # type: ignore[arg-type]
    assert _paths(err) == ["currency"]


# -- arithmetic -------------------------------------------------------------------------


def test_same_currency_amounts_add_and_subtract() -> None:
    assert Money.of("12.30", "CNY") + Money.of("0.70", "CNY") == Money.of("13", "CNY")
    assert Money.of("13", "CNY") - Money.of("0.70", "CNY") == Money.of("12.30", "CNY")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a.min(b),
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge", "min"],
)
def test_arithmetic_across_currencies_raises_currency_mismatch(operation: object) -> None:
    with pytest.raises(CurrencyMismatch) as err:
        operation(Money.of("1", "CNY"), Money.of("1", "USD"))  # type: ignore[operator]
    assert (err.value.left, err.value.right) == ("CNY", "USD")
    assert isinstance(err.value, ValidationError)


def test_arithmetic_with_a_plain_number_is_refused() -> None:
    with pytest.raises(ValidationError):
        Money.of("1", "CNY") + 1  # type: ignore[operator]


def test_subtraction_below_zero_is_refused() -> None:
    with pytest.raises(ValidationError, match="negative") as err:
        Money.of("1.00", "CNY") - Money.of("1.01", "CNY")
    assert _paths(err) == ["amount"]


@pytest.mark.parametrize(
    ("amount", "factor", "expected"),
    [
        ("10.00", 3, "30.00"),
        ("10.00", Decimal("0.333"), "3.33"),
        ("0.05", Decimal("0.5"), "0.03"),
        ("0.01", Decimal("0.5"), "0.01"),
        ("0.01", Decimal("0.49"), "0.00"),
        ("1.005", Decimal("0.5"), None),
    ],
)
def test_multiplication_rounds_half_up_to_the_minor_unit(
    amount: str, factor: int | Decimal, expected: str | None
) -> None:
    if expected is None:
        with pytest.raises(ValidationError):
            Money.of(amount, "CNY")
        return
    assert (Money.of(amount, "CNY") * factor).amount == Decimal(expected)
    assert factor * Money.of(amount, "CNY") == Money.of(amount, "CNY") * factor


def test_multiplication_half_up_in_yen_and_dinar() -> None:
    assert Money.of("5", "JPY") * Decimal("0.5") == Money.of("3", "JPY")
    assert Money.of("0.005", "KWD") * Decimal("0.5") == Money.of("0.003", "KWD")


@pytest.mark.parametrize(
    "factor", [1.5, True, -1, Decimal("-0.1"), Decimal("NaN"), Decimal("Infinity"), "2"]
)
def test_multiplication_refuses_floats_negatives_and_non_numbers(factor: object) -> None:
    with pytest.raises(ValidationError) as err:
        Money.of("1", "CNY") * factor  # type: ignore[operator]
    assert _paths(err) == ["factor"]


def test_multiplication_overflow_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="too large"):
        Money.of("1", "CNY") * Decimal("1e40")


def test_comparisons_order_amounts_of_one_currency() -> None:
    small, large = Money.of("1.99", "CNY"), Money.of("2", "CNY")
    assert small < large
    assert small <= large
    assert large > small
    assert large >= small
    assert small <= Money.of("1.990", "CNY")
    assert small.min(large) is small
    assert large.min(small) is small
    assert sorted([large, small]) == [small, large]


def test_zero_is_falsy_and_any_other_amount_truthy() -> None:
    assert not Money.zero("CNY")
    assert Money.of("0.01", "CNY")


def test_total_sums_amounts_and_is_zero_for_none() -> None:
    amounts = [Money.of("1.10", "CNY"), Money.of("2.20", "CNY"), Money.of("3.30", "CNY")]
    assert Money.total(amounts, "CNY") == Money.of("6.60", "CNY")
    assert Money.total([], "JPY") == Money.zero("JPY")
    with pytest.raises(CurrencyMismatch):
        Money.total(amounts, "USD")


def test_money_is_hashable_and_equal_by_value() -> None:
    assert {Money.of("1", "CNY"), Money.of("1.00", "CNY")} == {Money.of("1", "CNY")}
    assert Money.of("1", "CNY") != Money.of("1", "USD")


# -- properties -------------------------------------------------------------------------

_cny = money(currency=st.just("CNY"))


@given(currencies().flatmap(lambda c: st.tuples(*[money(currency=st.just(c))] * 3)))
def test_addition_is_commutative_and_associative(amounts: tuple[Money, Money, Money]) -> None:
    a, b, c = amounts
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)


@given(currencies().flatmap(lambda c: st.tuples(*[money(currency=st.just(c))] * 2)))
def test_adding_then_subtracting_gives_back_the_original(amounts: tuple[Money, Money]) -> None:
    a, b = amounts
    assert a + b - b == a
    assert a + b >= a


@given(_cny, _cny)
def test_money_never_goes_negative(a: Money, b: Money) -> None:
    if b > a:
        with pytest.raises(ValidationError):
            a - b
    else:
        assert (a - b).amount >= 0
    assert (a * Decimal("0.001")).amount >= 0


@given(money(), st.integers(0, 1000))
def test_multiplying_by_an_integer_equals_repeated_addition(amount: Money, n: int) -> None:
    assert amount * n == Money.total([amount] * n, amount.currency)


@given(money())
def test_money_round_trips_through_json(amount: Money) -> None:
    assert from_json(Money, to_json(amount)) == amount


@given(money())
def test_money_from_its_own_string_is_the_same_money(amount: Money) -> None:
    text, currency = str(amount).split(" ")
    assert Money.of(text, currency) == amount


# -- the already-normal fast path -------------------------------------------------------


def _money_or_error(amount: object, currency: object) -> tuple[str, str] | list[tuple[str, str]]:
    try:
        made = Money(amount, currency)  # type: ignore[arg-type]
    except ValidationError as err:
        return err.errors
    return (str(made.amount), made.currency)


@given(
    st.decimals(allow_nan=True, allow_infinity=True)
    | st.decimals(places=2)
    | st.decimals(places=0),
    st.sampled_from(["CNY", "JPY", "KWD", "XXX", "cny", "EURO"]),
)
def test_a_decimal_amount_gives_the_same_money_or_error_as_its_text(
    amount: Decimal, currency: str
) -> None:
    assert _money_or_error(amount, currency) == _money_or_error(str(amount), currency)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("12.30"), "CNY", "12.30"),
        (Decimal("12.3"), "CNY", "12.30"),
        (Decimal("-0.00"), "CNY", "0.00"),
        (Decimal("5"), "JPY", "5"),
        (Decimal("5.000"), "KWD", "5.000"),
        (Decimal("9999999999999999.99"), "CNY", "9999999999999999.99"),
    ],
)
def test_amounts_at_the_currency_exponent_are_kept_and_others_normalised(
    amount: Decimal, currency: str, expected: str
) -> None:
    assert str(Money(amount, currency).amount) == expected


def test_fits_is_true_exactly_below_the_size_limit() -> None:
    assert Money.fits(Decimal("9999999999999999.99"), "CNY")
    assert not Money.fits(Decimal("10000000000000000.00"), "CNY")
    assert Money.fits(Decimal("999999999999999999"), "JPY")
    assert not Money.fits(Decimal("1000000000000000000"), "JPY")
    assert Money.fits(Decimal(0), "KWD")
    with pytest.raises(ValidationError) as err:
        Money.fits(Decimal(1), "yuan")
    assert _paths(err) == ["currency"]
