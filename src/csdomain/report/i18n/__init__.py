"""The report's language: its texts through the gettext catalogs, its numbers the language's way.

Every label, heading, table header, chart legend and sentence of the text and HTML report
is an English message id passed to :func:`_` (or a coded value passed to :func:`label_of`)
while a report renders; :func:`report_language` chooses the language for the rendering
(``en`` unless told). A text the language's catalog lacks is shown in English, never as a
key. The texts are listed in :mod:`csdomain.report.i18n.texts`, which the catalog
extraction reads (``babel.cfg``), and ``tests/test_report.py`` checks that the list is
exactly what the report's modules mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from csdomain.i18n import Translator, translator
from csdomain.money import Money


__all__ = [
    "REPORT_CONTEXT",
    "clean",
    "current",
    "label_of",
    "pct_sign",
    "report_language",
    "show_money",
    "translate",
]

#: The ``msgctxt`` of the coded values the report shows as words (``product quality``).
REPORT_CONTEXT = "report"

_CURRENT: ContextVar[Translator | None] = ContextVar("csdomain_report_language", default=None)


def current() -> Translator:
    """The translator of the report being rendered (English outside a rendering)."""
    found = _CURRENT.get()
    return translator("en") if found is None else found


@contextmanager
def report_language(
    language: str | Translator = "en", catalog_dirs: tuple[str | Path, ...] = ()
) -> Iterator[Translator]:
    """Render the report's texts in ``language`` (a tag or a :class:`Translator`) meanwhile.

    Raises :class:`~csdomain.errors.ValidationError` at ``language`` for an unknown tag.
    """
    chosen = language if isinstance(language, Translator) else translator(language, catalog_dirs)
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)


def _text(tr: Translator, message: str, context: str | None = None) -> str:
    if tr.is_source or not tr.has(message, context):
        return message
    return tr.gettext(message) if context is None else tr.pgettext(context, message)


def translate(message: str, /, **fields: object) -> str:
    """``message`` in the rendering's language, ``fields`` filled in (English if untranslated)."""
    text = _text(current(), message)
    return text.format(**fields) if fields else text


#: The short name the report's modules call :func:`translate` by (and mark texts with).
_ = translate


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def clean(text: object) -> str:
    """Text safe for a terminal or a page: control characters become one space."""
    return _CONTROL.sub(" ", str(text)).strip()


def label_of(value: object) -> str:
    """An enum member or code as words in the rendering's language (``product quality``)."""
    words = clean(getattr(value, "value", value)).replace("_", " ")
    return _text(current(), words, REPORT_CONTEXT)


def pct_sign() -> str:
    """What follows a percentage: `` %`` in English (as the report always wrote), else ``%``."""
    return " %" if current().is_source else "%"


def show_money(money: Money) -> str:
    """An amount: ``12.50 CNY`` in English (as before), the language's format otherwise."""
    tr = current()
    return str(money) if tr.is_source else tr.format_money(money)
