"""Complaints (投诉): accept at once, resolve fast, follow up after.

A :class:`Complaint` is a frozen record that walks the closed loop of docs/domain.md 3.2
(受理即时, 结果迅速, 处理后有回访): *received* → *assessed* (founded) or *rejected*
(unfounded, still counted) → *investigating* → *resolution_proposed* →
*resolution_approved* → *resolved* (the customer accepted) → *followed_up* → *closed*,
with an explicit *on_hold* state while the team waits for the customer. The allowed moves
are data (:data:`COMPLAINT_TRANSITIONS`, and beside it the command table of
:data:`COMPLAINT_LIFECYCLE`); every move appends a
:class:`~csdomain.lifecycle.StatusChange` to ``history``.

Everything here is pure: time comes in as ``at=``, numbers come from
:class:`ComplaintPolicy`, working hours from the owning team's
:class:`~csdomain.calendar.BusinessCalendar`, the customer's rest hours from a
:class:`~csdomain.calendar.QuietHours`. Command methods take ``by`` (an
:class:`~csdomain.auth.Actor`) and the :class:`~csdomain.auth.AccessPolicy` and check
:data:`~csdomain.auth.Permission.HANDLE_COMPLAINT` themselves; approving a remedy of
substance checks :data:`~csdomain.auth.Permission.APPROVE_REMEDY` and the approver's
limit (docs/domain.md 3.6).

- Service levels (docs/domain.md 3.3): ``respond_by`` and ``resolve_by`` are set at receipt
  from the :class:`SlaPolicy` of the complaint's urgency; time on hold moves
  ``resolve_by``; :func:`is_breached` / :func:`breaches` tell what is overdue.
- Escalation (五级追访制, docs/domain.md 3.4): :func:`escalate_overdue` moves an overdue
  complaint one rung up the ladder per missed deadline; a customer who refuses the
  remedy or is dissatisfied at the visit moves it up once more.
- Follow-up visits (回访, docs/domain.md 3.5): a resolved complaint gets a visit due within
  three days at a time outside the customer's rest hours; :func:`missing_follow_ups`
  finds member complaints that were not visited in time; the visit script's answers
  (satisfied → suggestions, otherwise what to improve) are kept with each visit and
  :func:`visit_report` sums them up per month.
- Statistics (顾客投诉分类统计表, docs/domain.md 3.2 step 7): :class:`ComplaintStatistics`
  is a streaming, mergeable accumulator with bounded memory.

The modules import one way, without cycles: ``classification`` (the vocabulary) →
``policy`` → ``sla``, ``escalation``, ``follow_up`` (the computations) → ``model``
(statuses, the command table, remedies, the aggregate) → ``overdue``, ``events``,
``statistics``, ``visits`` (over many complaints). This package re-exports every name.
"""

from __future__ import annotations

from csdomain.complaints.classification import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintNature,
    ComplaintUrgency,
)
from csdomain.complaints.escalation import (
    ComplaintEscalated,
    EscalationReason,
    EscalationStep,
)
from csdomain.complaints.events import (
    ComplaintClosed,
    ComplaintReceived,
    ComplaintStatusChanged,
    FollowUpScheduled,
    complaint_events,
)
from csdomain.complaints.follow_up import (
    FollowUp,
    FollowUpMethod,
    FollowUpOutcome,
    check_visit_answers,
    plan_follow_up,
)
from csdomain.complaints.model import (
    COMPLAINT_COMMANDS,
    COMPLAINT_LIFECYCLE,
    COMPLAINT_TRANSITIONS,
    CONCLUDED_STATUSES,
    OPEN_STATUSES,
    RESUME_COMMANDS,
    WORKING_STATUSES,
    Approval,
    Complaint,
    ComplaintStatus,
    CustomerAcceptance,
    CustomerRefusal,
    Remedy,
    RemedyKind,
    StaffPenalty,
    WrittenStatement,
    check_remedy_authority,
    escalate_overdue,
    receive_complaint,
)
from csdomain.complaints.overdue import (
    SlaBreach,
    SlaKind,
    breaches,
    follow_up_missed,
    is_breached,
    missing_follow_ups,
    sla_breaches,
)
from csdomain.complaints.policy import (
    ComplaintPolicy,
    SlaPolicy,
    SlaTarget,
)
from csdomain.complaints.sla import (
    SlaOutcome,
)
from csdomain.complaints.statistics import (
    CauseCount,
    ClassificationRow,
    ComplaintReport,
    ComplaintStatistics,
    DurationSketch,
    TopCounter,
)
from csdomain.complaints.visits import VisitMonth, VisitRemark, visit_report


__all__ = [
    "COMPLAINT_COMMANDS",
    "COMPLAINT_LIFECYCLE",
    "COMPLAINT_TRANSITIONS",
    "CONCLUDED_STATUSES",
    "OPEN_STATUSES",
    "RESUME_COMMANDS",
    "WORKING_STATUSES",
    "Approval",
    "CauseCount",
    "ClassificationRow",
    "Complaint",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintClosed",
    "ComplaintEscalated",
    "ComplaintNature",
    "ComplaintPolicy",
    "ComplaintReceived",
    "ComplaintReport",
    "ComplaintStatistics",
    "ComplaintStatus",
    "ComplaintStatusChanged",
    "ComplaintUrgency",
    "CustomerAcceptance",
    "CustomerRefusal",
    "DurationSketch",
    "EscalationReason",
    "EscalationStep",
    "FollowUp",
    "FollowUpMethod",
    "FollowUpOutcome",
    "FollowUpScheduled",
    "Remedy",
    "RemedyKind",
    "SlaBreach",
    "SlaKind",
    "SlaOutcome",
    "SlaPolicy",
    "SlaTarget",
    "StaffPenalty",
    "TopCounter",
    "VisitMonth",
    "VisitRemark",
    "WrittenStatement",
    "breaches",
    "check_remedy_authority",
    "check_visit_answers",
    "complaint_events",
    "escalate_overdue",
    "follow_up_missed",
    "is_breached",
    "missing_follow_ups",
    "plan_follow_up",
    "receive_complaint",
    "sla_breaches",
    "visit_report",
]
