"""A realistic, deterministic demo data set, built through the service desk's use cases.

``build_demo(store, size="small", seed=2026)`` plays a month of a service team's work on a
:class:`~csdomain.service.ServiceDesk` with a clock that moves forward, each step at its own
time on an agenda (:mod:`~csdomain.demo.office`): customers of every class in several
cities, stock received, orders through every channel (standard and custom work) placed over
the month and confirmed, paid, shipped, delivered and completed hours to days apart,
returns, complaints across categories and urgencies answered and resolved after plausible
delays (most within their targets, some breaching them and escalated by a job every three
working hours), warranty claims covered and excluded, a satisfaction survey answered after
the complaints closed, contact-centre records, and the outbox relayed into messages; and the
after-sales team's September on the same clock: product files from shipped orders, a service
network of own and contracted points, technicians with calendars, and service orders from
calls, complaints, warranty calls, maintenance plans and deliveries through triage,
dispatch, visits, quotes, sign-off and settlement. The same seed gives the same data.

``build_demo`` returns the counts under stable snake_case keys; the refusals the story
provokes on purpose (the rules at work) count under :func:`refusal_key` keys, explained
by :data:`REFUSALS`.

The package: :mod:`~csdomain.demo.story` (the story and :func:`build_demo`),
:mod:`~csdomain.demo.office` (the agenda and the complaint month),
:mod:`~csdomain.demo.fieldservice` (the field-service month) and
:mod:`~csdomain.demo.history` (the year of past business the larger sizes write in bulk).
"""

from __future__ import annotations

from csdomain.demo import story as _story
from csdomain.demo.story import (
    CATEGORIES,
    CHANNELS,
    CITIES,
    CLASSES,
    PRODUCTS,
    REFUSALS,
    START,
    SURNAMES,
    ProgressFactory,
    build_demo,
    refusal_key,
    split_refusal_key,
)


__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "CITIES",
    "CLASSES",
    "HISTORY_CUSTOMERS",
    "PRODUCTS",
    "REFUSALS",
    "SIZES",
    "START",
    "SURNAMES",
    "ProgressFactory",
    "build_demo",
    "refusal_key",
    "split_refusal_key",
]

# The sizes again, with their documentation here (the API reference reads this module).

#: Customers in the story (played through the use cases) per size; everything else in
#: the story scales with it.
SIZES = _story.SIZES
#: Customers of the bulk-written year of history before the story (about 45 rows each:
#: ``large`` is about a million rows in total).
HISTORY_CUSTOMERS = _story.HISTORY_CUSTOMERS
