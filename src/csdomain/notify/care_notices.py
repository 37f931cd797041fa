"""Care touch-point messages in a language: birthday, holiday greeting, maintenance reminder ...

The care touch-points (docs/domain.md 3.5 and 7: next-day call, one month after hand-over,
one-year inspection, the check before New Year, birthday and holiday greetings, periodic
maintenance reminders) are a care plan's schedule, not domain events:
:func:`csdomain.care.care_messages` builds their messages from each touch-point's English
``subject`` and ``body``. :func:`localized_care_message` renders such a message again in a
language: the texts are looked up in the catalogs (:data:`CARE_TEXTS` are the default
plan's, translated in the built-in ``zh-CN`` catalog), ``{date}`` is the language's long
date and ``{name}`` the customer's name as on file (never guessed or shortened). A text
the catalog does not know (an application's own wording) stays as it is, in English.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from csdomain.errors import ValidationError
from csdomain.i18n import N_
from csdomain.notify.model import Message
from csdomain.notify.templates import Rendering, current_rendering


if TYPE_CHECKING:
    from csdomain.care import CareOccurrence, CareSubject


__all__ = ["CARE_TEXTS", "care_texts", "localized_care_message"]

#: The subjects and bodies of the default care plan (``CarePlan()``), as message ids.
CARE_TEXTS: tuple[str, ...] = (
    N_("How did it go?"),
    N_("Dear {name}, thank you for choosing us. How did yesterday's service go?"),
    N_("One month with your product"),
    N_("Dear {name}, it is a month since hand-over. Is everything working well?"),
    N_("Your one-year inspection"),
    N_("Dear {name}, your one-year inspection is due. Reply to book a time."),
    N_("A check before the Spring Festival"),
    N_(
        "Dear {name}, the Spring Festival is a month away. Shall we check your equipment "
        "before the holiday?"
    ),
    N_("Happy birthday"),
    N_("Happy birthday, {name}! Best wishes from your service team."),
    N_("Holiday greetings"),
    N_("Dear {name}, warm holiday wishes from your service team."),
    N_("Maintenance due"),
    N_("Dear {name}, your periodic maintenance is due on {date}. Reply to book it."),
)


def care_texts(
    occurrence: CareOccurrence, subject: CareSubject, rendering: Rendering | None = None
) -> tuple[str, str, str]:
    """``(subject, body, language)`` of a care occurrence in ``rendering``'s language.

    The touch-point's texts are translated when the catalog has both, else kept in
    English (``language`` says which). Fields as :func:`csdomain.care.care_messages` fills
    them: ``{name}`` (the name on file, else the customer id), ``{date}`` (the
    occurrence's day, the language's long date), ``{customer_id}`` and ``{kind}``.
    """
    chosen = rendering or current_rendering()
    tp = occurrence.touchpoint
    tr = chosen.translator()
    translated = (not tp.subject or tr.has(tp.subject)) and (not tp.body or tr.has(tp.body))
    if not translated:
        tr = chosen.translator("en")
    fields = {
        "name": subject.name or subject.customer_id,
        "date": tr.format_date(occurrence.on),
        "customer_id": subject.customer_id,
        "kind": occurrence.kind,
    }
    title = tr.gettext(tp.subject) if tp.subject else ""
    body = tr.gettext(tp.body) if tp.body else ""
    return (
        title.format_map(fields),
        body.format_map(fields) or occurrence.kind.replace("_", " "),
        tr.language,
    )


def localized_care_message(
    message: Message,
    occurrence: CareOccurrence,
    subject: CareSubject,
    rendering: Rendering | None = None,
) -> Message:
    """``message`` (from :func:`csdomain.care.care_messages`) in ``rendering``'s language.

    Only the texts and ``language`` change; id, key, times and rest hours stay, so a
    localized message replaces the English one one for one.
    """
    if message.idempotency_key != occurrence.idempotency_key:
        raise ValidationError.at("message", "the message is not the occurrence's")
    title, body, language = care_texts(occurrence, subject, rendering)
    return attrs.evolve(message, subject=title, body=body, language=language)
