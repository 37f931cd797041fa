"""A small HTTP API over the csdomain service desk: customers, orders and complaints.

An example of what an application writes around the library (it is not part of the
package). Run it with any ASGI server::

    pip install . starlette uvicorn
    CSDOMAIN_STORE=sqlite:///api.db uvicorn --factory examples.http_api.app:from_environment

(``README.md`` next to this file has a ``curl`` session that goes through every route.)

Who is calling comes from the ``X-Actor`` header, looked up in the application's staff
table (a real application would use its login). Bodies and answers are JSON in the
library's own format (:func:`csdomain.serialization.unstructure`), and the library's
errors become the HTTP answers applications expect:

==========================  ======  ==========================================
error                       status  body
==========================  ======  ==========================================
``ValidationError``         422     ``{"errors": [{"path": ..., "message": ...}]}``
``RuleViolation``           409     ``{"code": ..., "message": ...}``
``PermissionDenied``        403     ``{"permission": ..., "message": ...}``
``NotFound``                404     ``{"kind": ..., "key": ..., "message": ...}``
``ConcurrencyConflict``     409     ``{"code": "concurrency_conflict", ...}``
``BackendUnavailable``      503     ``{"message": ...}`` with ``Retry-After``
==========================  ======  ==========================================
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from csdomain import (
    Actor,
    BackendUnavailable,
    ConcurrencyConflict,
    ConsigneeInfo,
    CsDomainError,
    Money,
    NotFound,
    OrderLine,
    PermissionDenied,
    RuleViolation,
    ServiceDesk,
    ValidationError,
    open_store,
)
from csdomain.serialization import structure, unstructure


__all__ = ["DEFAULT_STAFF", "create_app", "from_environment"]

#: The staff table of the example: ``X-Actor`` values and the roles they hold.
DEFAULT_STAFF: Mapping[str, Actor] = {
    actor.id: actor
    for actor in (
        Actor("li.specialist", {"specialist"}),
        Actor("wang.manager", {"department_manager"}),
        Actor("zhao.finance", {"finance"}),
        Actor("sun.warehouse", {"warehouse"}),
    )
}

Handler = Callable[[ServiceDesk, Actor, Request, dict[str, Any]], Any]


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer in the library's own format (decimals as text, times in ISO 8601)."""
    body = orjson.dumps(unstructure(data) if not isinstance(data, dict) else data)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(error: CsDomainError) -> Response:
    """The HTTP answer for one of the library's errors (see the module docstring)."""
    if isinstance(error, ValidationError):
        errors = [{"path": path, "message": message} for path, message in error.errors]
        return json_response({"errors": errors}, 422)
    if isinstance(error, RuleViolation):
        return json_response({"code": error.code, "message": error.message}, 409)
    if isinstance(error, PermissionDenied):
        return json_response({"permission": error.permission, "message": str(error)}, 403)
    if isinstance(error, NotFound):
        body = {"kind": error.kind, "key": error.key, "message": str(error)}
        return json_response(body, 404)
    if isinstance(error, ConcurrencyConflict):
        return json_response({"code": "concurrency_conflict", "message": str(error)}, 409)
    if isinstance(error, BackendUnavailable):
        return json_response({"message": str(error)}, 503, headers={"Retry-After": "5"})
    return json_response({"message": str(error)}, 400)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationError.at("", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise ValidationError.at("", "the body is a JSON object")
    return data


def _field(body: Mapping[str, Any], name: str, default: Any = ...) -> Any:
    if name in body:
        return body[name]
    if default is ...:
        raise ValidationError.at(name, "is required")
    return default


def _structured(body: Mapping[str, Any], name: str, cls: Any) -> Any:
    """Field ``name`` of the body as ``cls``; a bad value's error paths start at ``name``
    (``lines.0.quantity``), as the client wrote the body."""
    try:
        return structure(_field(body, name), cls)
    except ValidationError as error:
        raise error.prefixed(name) from None


# -- the use cases behind the routes ---------------------------------------------------------


def register_customer(desk: ServiceDesk, by: Actor, _r: Request, body: dict[str, Any]) -> Any:
    """``POST /customers``: name, city and the contact fields of the customer file."""
    fields = {k: v for k, v in body.items() if k in {"phone", "email", "address", "postcode"}}
    registration = desk.register_customer(
        name=_field(body, "name"), city=_field(body, "city"), by=by, **fields
    )
    answer = unstructure(registration.customer)
    warning = registration.warning
    answer["duplicate_warning"] = None if warning is None else unstructure(warning)
    return answer, 201


def get_customer(desk: ServiceDesk, by: Actor, request: Request, _b: dict[str, Any]) -> Any:
    """``GET /customers/{id}``: the file (the read is on record)."""
    return desk.get_customer(request.path_params["id"], by=by), 200


def receive_stock(desk: ServiceDesk, by: Actor, request: Request, body: dict[str, Any]) -> Any:
    """``POST /stock/{sku}``: goods in, ``{"good": 50}`` (also ``damaged``, ``gift``)."""
    counts = {k: v for k, v in body.items() if k in {"good", "damaged", "gift"}}
    return desk.receive_stock(request.path_params["sku"], by=by, **counts), 200


def place_order(desk: ServiceDesk, by: Actor, _r: Request, body: dict[str, Any]) -> Any:
    """``POST /orders``: customer_id, channel, lines and the consignee details."""
    lines = _structured(body, "lines", list[OrderLine])
    consignee = (
        None if body.get("consignee") is None else _structured(body, "consignee", ConsigneeInfo)
    )
    order = desk.place_order(
        _field(body, "customer_id"),
        channel=_field(body, "channel", "online"),
        lines=lines,
        consignee=consignee,
        by=by,
    )
    return order, 201


def get_order(desk: ServiceDesk, by: Actor, request: Request, _b: dict[str, Any]) -> Any:
    """``GET /orders/{id}``."""
    return desk.get_order(request.path_params["id"], by=by), 200


def confirm_order(desk: ServiceDesk, by: Actor, request: Request, _b: dict[str, Any]) -> Any:
    """``POST /orders/{id}/confirm``."""
    return desk.confirm_order(request.path_params["id"], by=by), 200


def record_payment(desk: ServiceDesk, by: Actor, request: Request, body: dict[str, Any]) -> Any:
    """``POST /orders/{id}/payments``: amount (``{"amount": "37.00", "currency": "CNY"}``)."""
    amount = _structured(body, "amount", Money)
    order = desk.record_payment(
        request.path_params["id"], amount, reference=body.get("reference", ""), by=by
    )
    return order, 200


def ship_order(desk: ServiceDesk, by: Actor, request: Request, body: dict[str, Any]) -> Any:
    """``POST /orders/{id}/shipment``."""
    return desk.ship_order(request.path_params["id"], tracking=body.get("tracking", ""), by=by), 200


def receive_complaint(desk: ServiceDesk, by: Actor, _r: Request, body: dict[str, Any]) -> Any:
    """``POST /complaints``: customer_id, channel, urgency, category, description."""
    complaint = desk.receive_complaint(
        _field(body, "customer_id"),
        channel=_field(body, "channel", "phone"),
        urgency=_field(body, "urgency", "ordinary"),
        category=_field(body, "category"),
        description=_field(body, "description"),
        by=by,
    )
    return complaint, 201


def get_complaint(desk: ServiceDesk, by: Actor, request: Request, _b: dict[str, Any]) -> Any:
    """``GET /complaints/{id}``: with its deadlines (``respond_by``, ``resolve_by``) and
    ``breached``: whether it missed one of them by now."""
    complaint = desk.get_complaint(request.path_params["id"], by=by)
    answer = unstructure(complaint)
    answer["breached"] = complaint.is_breached(at=desk.now())
    return answer, 200


def list_breaches(desk: ServiceDesk, by: Actor, request: Request, _b: dict[str, Any]) -> Any:
    """``GET /breaches``: the service-level targets missed and still not met, earliest due
    first (``?include_met=1``: also those met late)."""
    include_met = request.query_params.get("include_met", "") in {"1", "true", "yes"}
    return desk.breaches(by=by, include_met=include_met), 200


def _endpoint(
    desk: ServiceDesk, staff: Mapping[str, Actor], handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        caller = request.headers.get("X-Actor", "")
        actor = staff.get(caller)
        if actor is None:
            return json_response({"message": f"unknown caller {caller!r}: send X-Actor"}, 401)
        try:
            body = await _body(request)
            # the desk is synchronous: one use case, one transaction, in a worker thread
            result, status = await run_in_threadpool(handler, desk, actor, request, body)
        except CsDomainError as error:
            return error_response(error)
        return json_response(result, status)

    return endpoint


def create_app(desk: ServiceDesk, staff: Mapping[str, Actor] = DEFAULT_STAFF) -> Starlette:
    """The Starlette application over ``desk``, with ``staff`` as the callers it knows."""
    routes = [
        Route("/customers", _endpoint(desk, staff, register_customer), methods=["POST"]),
        Route("/customers/{id}", _endpoint(desk, staff, get_customer), methods=["GET"]),
        Route("/stock/{sku}", _endpoint(desk, staff, receive_stock), methods=["POST"]),
        Route("/orders", _endpoint(desk, staff, place_order), methods=["POST"]),
        Route("/orders/{id}", _endpoint(desk, staff, get_order), methods=["GET"]),
        Route("/orders/{id}/confirm", _endpoint(desk, staff, confirm_order), methods=["POST"]),
        Route("/orders/{id}/payments", _endpoint(desk, staff, record_payment), methods=["POST"]),
        Route("/orders/{id}/shipment", _endpoint(desk, staff, ship_order), methods=["POST"]),
        Route("/complaints", _endpoint(desk, staff, receive_complaint), methods=["POST"]),
        Route("/complaints/{id}", _endpoint(desk, staff, get_complaint), methods=["GET"]),
        Route("/breaches", _endpoint(desk, staff, list_breaches), methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        desk.close()  # the store's connections go with the application

    return Starlette(routes=routes, lifespan=lifespan)


def from_environment() -> Starlette:
    """The application on ``$CSDOMAIN_STORE`` (default ``sqlite:///csdomain.db``)."""
    url = os.environ.get("CSDOMAIN_STORE", "sqlite:///csdomain.db")
    return create_app(ServiceDesk(open_store(url)))
