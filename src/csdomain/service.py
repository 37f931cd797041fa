"""The service desk: every use case of csdomain on one object.

``ServiceDesk`` is the only place that combines the store, the clock, the policy, the
business calendars and the plugins. Each use case is one unit of work: load, call a pure
domain method with ``at=`` and ``by=``, save, and write the domain events to the outbox in
the same transaction; a concurrency conflict re-runs it (``retries``)::

    desk = ServiceDesk(csdomain.open_store("sqlite:///cs.db"))
    customer = desk.register_customer(..., by=clerk).customer
    order = desk.place_order(customer.id, lines, channel="online", by=clerk)

The use cases are grouped by area in :mod:`csdomain.desk` (customers, orders and returns,
delivery problems, complaints, warranty, field service, satisfaction and KPIs,
notifications, privacy).
"""

from __future__ import annotations

from csdomain.desk.base import DeskBase, retrying
from csdomain.desk.complaints import ComplaintDesk
from csdomain.desk.customers import CustomerDesk
from csdomain.desk.delivery import DeliveryDesk
from csdomain.desk.fieldservice import FieldServiceDesk
from csdomain.desk.notifications import Dispatcher, NotificationDesk
from csdomain.desk.orders import OrderDesk
from csdomain.desk.privacy import PrivacyDesk
from csdomain.desk.satisfaction import SatisfactionDesk
from csdomain.desk.service_cash import ServiceCashDesk
from csdomain.desk.service_network import ServiceNetworkDesk
from csdomain.desk.warranty import WarrantyDesk


__all__ = ["DeskBase", "Dispatcher", "ServiceDesk", "retrying"]


class ServiceDesk(
    CustomerDesk,
    OrderDesk,
    DeliveryDesk,
    ComplaintDesk,
    WarrantyDesk,
    FieldServiceDesk,
    ServiceNetworkDesk,
    ServiceCashDesk,
    SatisfactionDesk,
    NotificationDesk,
    PrivacyDesk,
):
    """All use cases: customers, orders, stock, returns, complaints, warranty claims, field
    service, surveys and KPIs, notifications, privacy (erasure and export).

    See :class:`~csdomain.desk.base.DeskBase` for the constructor.
    """
