"""Surveys as records: questionnaires, their items and the customers' responses (docs/domain.md 5).

:class:`Survey` has weighted items on one rating scale (optionally each with a SERVQUAL
dimension) and open questions; :class:`SurveyResponse` is one customer's answers, NPS
and the loyalty questions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from csdomain import validators as valid
from csdomain.errors import ValidationError, describe
from csdomain.satisfaction import _checks as check
from csdomain.satisfaction.scores import (
    MAX_SCALE,
    Dimension,
    ScoreMethod,
    _check_scale,
    _weight,
    weighted_score,
)


__all__ = [
    "SUPPLIER_ITEMS",
    "OpenQuestion",
    "Survey",
    "SurveyItem",
    "SurveyMethod",
    "SurveyResponse",
]


class SurveyMethod(StrEnum):
    """How a survey reaches the customer (docs/domain.md 5: mystery shopper, interview, ...)."""

    PHONE = "phone"
    SMS = "sms"
    MAIL = "mail"
    EMAIL = "email"
    ONLINE = "online"
    INTERVIEW = "interview"
    DROP_OFF = "drop_off"
    MYSTERY_SHOPPER = "mystery_shopper"


# -- survey definitions and responses --------------------------------------------------


def _to_dimension(value: Dimension | str | None) -> Dimension | None:
    return None if value is None else valid.enum_value(Dimension, value, "dimension")


def _item_weight(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    _weight(value, attribute.name)


@attrs.frozen
class SurveyItem:
    """One rated question of a survey with its weight and optional SERVQUAL dimension."""

    key: str = attrs.field(validator=valid.not_blank)
    text: str = attrs.field(default="", validator=valid.text)
    weight: float = attrs.field(default=1.0, validator=_item_weight)
    dimension: Dimension | None = attrs.field(default=None, converter=_to_dimension)


@attrs.frozen
class OpenQuestion:
    """A free-text question ("what should we improve?")."""

    key: str = attrs.field(validator=valid.not_blank)
    text: str = attrs.field(default="", validator=valid.text)


#: The documents' survey items for a supplier (docs/domain.md 5), equal weights by default.
SUPPLIER_ITEMS: tuple[tuple[str, str], ...] = (
    ("product_quality", "Product quality"),
    ("price", "Price"),
    ("delivery_time", "Delivery time"),
    ("packaging", "Packaging"),
    ("after_sales_service", "After-sales service"),
)


def _to_method(value: SurveyMethod | str) -> SurveyMethod:
    return valid.enum_value(SurveyMethod, value, "method")


@attrs.frozen
class Survey:
    """A questionnaire: weighted items on one rating scale, plus open questions.

    docs/domain.md 5: five-point scale plus open questions; items with weights. When
    ``overall_item`` names an item ("overall satisfaction"), CSAT and the driver analysis
    use it; otherwise CSAT pools every item and drivers explain the weighted score.
    """

    id: str = attrs.field(validator=valid.not_blank)
    title: str = attrs.field(validator=valid.text)
    items: tuple[SurveyItem, ...] = attrs.field(
        converter=valid.as_tuple, validator=valid.tuple_of(SurveyItem)
    )
    scale: int = 5
    open_questions: tuple[OpenQuestion, ...] = attrs.field(
        default=(), converter=valid.as_tuple, validator=valid.tuple_of(OpenQuestion)
    )
    overall_item: str | None = attrs.field(default=None, validator=valid.optional_text)
    method: SurveyMethod = attrs.field(default=SurveyMethod.PHONE, converter=_to_method)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        try:
            _check_scale(self.scale)
        except ValidationError as err:
            errors.extend(err.errors)
        if not self.items:
            errors.append(("items", "a survey needs at least one rated item"))
        seen: set[str] = set()
        for i, item in enumerate(self.items):
            if item.key in seen:
                errors.append((f"items.{i}.key", f"duplicate item key {describe(item.key)}"))
            seen.add(item.key)
        if self.items and sum(item.weight for item in self.items) <= 0:
            errors.append(("items", "the items' weights add up to zero"))
        if self.overall_item is not None and self.overall_item not in seen:
            errors.append(("overall_item", f"{describe(self.overall_item)} is not an item key"))
        questions: set[str] = set()
        for i, question in enumerate(self.open_questions):
            if question.key in questions:
                msg = f"duplicate key {describe(question.key)}"
                errors.append((f"open_questions.{i}.key", msg))
            else:
                questions.add(question.key)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def supplier(
        cls,
        id: str,
        title: str = "Supplier satisfaction",
        *,
        weights: Mapping[str, float] | None = None,
        scale: int = 5,
    ) -> Survey:
        """The documents' supplier survey: quality, price, delivery, packaging, after-sales."""
        if weights is not None and not isinstance(weights, Mapping):
            raise ValidationError.at("weights", "expected a mapping of item key to weight")
        weights = dict(weights or {})
        unknown = set(weights) - {key for key, _ in SUPPLIER_ITEMS}
        if unknown:
            raise ValidationError.at(f"weights.{min(map(str, unknown))}", "not a supplier item")
        items = tuple(
            SurveyItem(key=key, text=text, weight=weights.get(key, 1.0))
            for key, text in SUPPLIER_ITEMS
        )
        questions = (OpenQuestion("improve", "What should we improve?"),)
        return cls(id=id, title=title, items=items, scale=scale, open_questions=questions)

    @property
    def item_keys(self) -> tuple[str, ...]:
        """The item keys in questionnaire order."""
        return tuple(item.key for item in self.items)

    @property
    def weights(self) -> dict[str, float]:
        """Item key to weight."""
        return {item.key: item.weight for item in self.items}

    def item(self, key: str) -> SurveyItem:
        """The item with ``key``."""
        for item in self.items:
            if item.key == key:
                return item
        msg = f"{describe(key)} is not an item of survey {describe(self.id)}"
        raise ValidationError.at("key", msg)

    def check_response(self, response: SurveyResponse) -> None:
        """Raise ValidationError unless ``response`` answers this survey within its scale."""
        if not isinstance(response, SurveyResponse):
            msg = f"expected a SurveyResponse, got {type(response).__name__}"
            raise ValidationError.at("response", msg)
        errors: list[tuple[str, str]] = []
        if response.survey_id != self.id:
            msg = f"answers survey {describe(response.survey_id)}, not {describe(self.id)}"
            errors.append(("survey_id", msg))
        keys = set(self.item_keys)
        for field in ("ratings", "expectations"):
            for key, value in getattr(response, field).items():
                if key not in keys:
                    errors.append((f"{field}.{key}", "not an item of the survey"))
                elif not 1 <= value <= self.scale:
                    errors.append((f"{field}.{key}", f"{value} is outside 1..{self.scale}"))
        questions = {q.key for q in self.open_questions}
        errors.extend(
            (f"open_answers.{key}", "not an open question of the survey")
            for key in response.open_answers
            if key not in questions
        )
        if errors:
            raise ValidationError(errors)

    def score(
        self,
        response: SurveyResponse,
        method: ScoreMethod | str = ScoreMethod.SHARE_OF_SCALE,
    ) -> float | None:
        """The response's weighted score 0..100; ``None`` if no weighted item was rated.

        ``method``: how a rating becomes a score (:class:`ScoreMethod`; by default the
        documents' rating / scale x 100, as ``SatisfactionPolicy.score_method``).
        """
        self.check_response(response)
        weights = self.weights
        rated = {k: v for k, v in response.ratings.items() if weights[k] > 0}
        if not rated:
            return None
        return weighted_score(rated, weights, self.scale, method=method)


def _keyed(attribute: attrs.Attribute[Any], value: object, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError.at(attribute.name, f"expected a mapping of {what}")
    for key in value:
        if not isinstance(key, str):
            raise ValidationError.at(attribute.name, f"a key must be text, got {describe(key)}")
    return value


def _check_ratings(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    errors: list[tuple[str, str]] = []
    for key, score in _keyed(attribute, value, "item key to score").items():
        try:
            check.score(score, 1, MAX_SCALE, f"{attribute.name}.{key}")
        except ValidationError as err:
            errors.extend(err.errors)
    if errors:
        raise ValidationError(errors)


def _check_answers(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    for key, text in _keyed(attribute, value, "question key to text").items():
        if not isinstance(text, str):
            msg = f"expected text, got {type(text).__name__}"
            raise ValidationError.at(f"{attribute.name}.{key}", msg)


def _check_nps_score(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check.score(value, 0, 10, attribute.name)


def _to_optional_method(value: SurveyMethod | str | None) -> SurveyMethod | None:
    return None if value is None else _to_method(value)


@attrs.frozen
class SurveyResponse:
    """One customer's answers to one survey (stored; one per customer and campaign).

    ``ratings`` and ``expectations`` map item keys to scores on the survey's scale
    (expectations are for SERVQUAL items); skipped items are simply absent. Loyalty is
    asked apart from satisfaction (docs/domain.md 5: loyal = repurchases and recommends).
    """

    id: str = attrs.field(validator=valid.not_blank)
    survey_id: str = attrs.field(validator=valid.not_blank)
    customer_id: str = attrs.field(validator=valid.not_blank)
    answered_at: datetime = attrs.field(validator=valid.aware)
    ratings: Mapping[str, int] = attrs.field(
        factory=dict, converter=valid.as_dict, validator=_check_ratings
    )
    open_answers: Mapping[str, str] = attrs.field(
        factory=dict, converter=valid.as_dict, validator=_check_answers
    )
    nps_score: int | None = attrs.field(default=None, validator=_check_nps_score)
    repurchased: bool | None = attrs.field(default=None, validator=valid.optional(valid.flag))
    would_recommend: bool | None = attrs.field(default=None, validator=valid.optional(valid.flag))
    expectations: Mapping[str, int] = attrs.field(
        factory=dict, converter=valid.as_dict, validator=_check_ratings
    )
    campaign_id: str | None = attrs.field(default=None, validator=valid.optional(valid.not_blank))
    method: SurveyMethod | None = attrs.field(default=None, converter=_to_optional_method)

    @property
    def loyal(self) -> bool | None:
        """Repurchased and would recommend; ``None`` while either answer is missing."""
        if self.repurchased is None or self.would_recommend is None:
            return None
        return self.repurchased and self.would_recommend
