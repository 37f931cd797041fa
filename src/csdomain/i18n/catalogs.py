"""Message catalogs: gettext per language from ``.po`` (or ``.mo``) files, with Babel formats.

English is the source language: every message id (``msgid``) is the English text, so a
text without a translation is shown in English, never as a key. The built-in catalogs live
in ``csdomain/i18n/locale/<lang>/LC_MESSAGES/csdomain.po``; more directories (a third
language, a rephrased text) are searched first, each holding either that layout or a plain
``<lang>.po`` file. ``.po`` files are read at run time with Babel (no compile step, so a
fresh clone works as installed); a compiled ``.mo`` beside or instead of one is read too.

:func:`translator` gives the :class:`Translator` of one language: ``gettext``,
``pgettext`` and ``ngettext`` (the standard library's :class:`gettext.GNUTranslations`
built from the catalog), :meth:`Translator.has` (is a text translated?) and the number,
money, date and month formats of the language's CLDR locale (Babel).
"""

from __future__ import annotations

import gettext
import io
import string
import threading
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.dates import format_skeleton as _format_skeleton
from babel.dates import format_time as _format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency as _format_currency
from babel.numbers import format_decimal as _format_decimal
from babel.numbers import format_percent as _format_percent

from csdomain.errors import ValidationError, describe
from csdomain.money import Money


__all__ = [
    "BUILTIN_CATALOG_DIR",
    "DOMAIN",
    "NP_",
    "N_",
    "SOURCE_LANGUAGE",
    "Translator",
    "available_languages",
    "catalog_file",
    "normalize_language",
    "translator",
]

#: The gettext domain: catalog files are called ``csdomain.po`` / ``csdomain.mo``.
DOMAIN = "csdomain"
#: The language the message ids are written in, and what a missing translation shows.
SOURCE_LANGUAGE = "en"
#: Where the built-in catalogs are (``<lang>/LC_MESSAGES/csdomain.po``).
BUILTIN_CATALOG_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark only"
    """Mark ``message`` for extraction into the catalogs; returns it unchanged."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:  # noqa: N802 - gettext convention
    """Mark ``message`` with a ``msgctxt`` for extraction; returns ``(context, message)``."""
    return context, message


def normalize_language(tag: object, path: str = "language") -> str:
    """A language tag in one spelling (``zh_CN``, ``zh-cn`` -> ``zh-CN``); refuses unknown ones.

    Raises :class:`~csdomain.errors.ValidationError` at ``path`` for a tag that is not text
    or that the CLDR (Babel) does not know.
    """
    if not isinstance(tag, str) or not tag.strip():
        raise ValidationError.at(path, f"expected a language tag like 'zh-CN', got {describe(tag)}")
    try:
        locale = Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as err:
        raise ValidationError.at(path, f"unknown language {tag!r}: {err}") from None
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


def _candidates(language: str) -> list[str]:
    """The catalog names to try for ``language``, most specific first."""
    names = [language.replace("-", "_"), language]
    base = language.partition("-")[0]
    if base != language:
        names.append(base)
    return list(dict.fromkeys(names))


def _directories(extra: Iterable[str | Path]) -> list[Path]:
    if isinstance(extra, str | Path):
        extra = (extra,)
    return [*(Path(d) for d in extra), BUILTIN_CATALOG_DIR]


def catalog_file(language: str, catalog_dirs: Iterable[str | Path] = ()) -> Path | None:
    """The catalog file for ``language``: the first found in ``catalog_dirs``, then built in.

    In each directory ``<lang>/LC_MESSAGES/csdomain.po``, the same ``.mo``, then
    ``<lang>.po`` and ``<lang>.mo``; ``<lang>`` is tried as ``zh_CN``, ``zh-CN``, then
    ``zh``. ``None`` when no catalog exists (English needs none).
    """
    language = normalize_language(language)
    for directory in _directories(catalog_dirs):
        for name in _candidates(language):
            for candidate in (
                directory / name / "LC_MESSAGES" / f"{DOMAIN}.po",
                directory / name / "LC_MESSAGES" / f"{DOMAIN}.mo",
                directory / f"{name}.po",
                directory / f"{name}.mo",
            ):
                if candidate.is_file():
                    return candidate
    return None


def available_languages(catalog_dirs: Iterable[str | Path] = ()) -> tuple[str, ...]:
    """The languages with a catalog in ``catalog_dirs`` or built in, and English, sorted."""
    found = {SOURCE_LANGUAGE}
    for directory in _directories(catalog_dirs):
        if not directory.is_dir():
            continue
        for entry in directory.iterdir():
            name = entry.name
            if entry.is_dir() and any((entry / "LC_MESSAGES").glob(f"{DOMAIN}.[pm]o")):
                pass
            elif entry.is_file() and entry.suffix in {".po", ".mo"}:
                name = entry.stem
            else:
                continue
            try:
                found.add(normalize_language(name))
            except ValidationError:
                continue
    return tuple(sorted(found))


def _read_catalog(path: Path, language: str) -> Catalog:
    try:
        with path.open("rb") as handle:
            if path.suffix == ".mo":
                return read_mo(handle)
            return read_po(handle, locale=language.replace("-", "_"), abort_invalid=True)
    except OSError as err:
        raise ValidationError.at("catalog", f"cannot read {path}: {err.strerror}") from None
    except Exception as err:  # Babel's parse errors have no common base class
        raise ValidationError.at("catalog", f"{path} is not a valid catalog: {err}") from None


class Translator:
    """The texts and formats of one language (build it with :func:`translator`).

    ``gettext``/``pgettext``/``ngettext`` answer from the language's catalog and fall back
    to the English message id; :meth:`has` tells whether a text really is translated (a
    translation whose ``{placeholders}`` differ from its message id's does not count). The
    ``format_*`` methods and :meth:`month_name` / :meth:`month_label` use the CLDR locale
    of the language (Babel): ``¥1,234.50`` and ``2026年3月5日`` in ``zh-CN``, ``CN¥1,234.50``
    and ``March 5, 2026`` in ``en``.
    """

    def __init__(self, language: str, catalog: Catalog | None = None) -> None:
        self.language = normalize_language(language)
        self.locale = Locale.parse(self.language.replace("-", "_"))
        self._translated: frozenset[tuple[str | None, str]] = frozenset()
        self._gettext: gettext.NullTranslations = gettext.NullTranslations()
        if catalog is not None:
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            self._gettext = gettext.GNUTranslations(buffer)
            self._translated = frozenset(
                (m.context, m.id if isinstance(m.id, str) else m.id[0])
                for m in catalog
                if m.id and not m.fuzzy and _has_text(m.string) and _same_fields(m.id, m.string)
            )

    def __repr__(self) -> str:
        return f"Translator({self.language!r}, {len(self._translated)} texts)"

    # -- texts ------------------------------------------------------------------------------

    def has(self, message: str, context: str | None = None) -> bool:
        """Whether ``message`` (with ``context``) has a translation in this language.

        English needs none (the message ids are English); this says whether the catalog
        has one, so a text written in another language is not taken for English.
        """
        return (context, message) in self._translated

    @property
    def is_source(self) -> bool:
        """Whether this is the language the message ids are written in (English)."""
        return self.language.partition("-")[0] == SOURCE_LANGUAGE

    def gettext(self, message: str) -> str:
        """``message`` in this language (the English message id when untranslated)."""
        return self._gettext.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        """``message`` in ``context`` (``msgctxt``) in this language, else the message id."""
        return self._gettext.pgettext(context, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for ``n`` by the catalog's plural rule."""
        return self._gettext.ngettext(singular, plural, n)

    # -- formats ----------------------------------------------------------------------------

    def format_money(self, money: Money) -> str:
        """An amount with its currency sign: ``¥1,234.50`` (zh-CN), ``CN¥1,234.50`` (en)."""
        if not isinstance(money, Money):
            raise ValidationError.at("money", f"expected Money, got {describe(money)}")
        return _format_currency(money.amount, money.currency, locale=self.locale)

    def format_number(self, value: int | float | Decimal) -> str:
        """A number with the language's grouping and decimal signs."""
        return _format_decimal(value, locale=self.locale)

    def format_percent(self, value: int | float | Decimal) -> str:
        """A fraction as a percentage (``0.25`` -> ``25%``)."""
        return _format_percent(value, locale=self.locale)

    def format_date(self, day: date, format: str = "long") -> str:
        """A calendar date (``long``: ``2026年3月5日`` / ``March 5, 2026``)."""
        if isinstance(day, datetime):
            day = day.date()
        return _format_date(day, format, locale=self.locale)

    def format_datetime(self, moment: datetime, time_zone: str = "Asia/Shanghai") -> str:
        """A moment in ``time_zone``: the long date and short time, joined the locale's way."""
        local = moment.astimezone(_zone(time_zone)) if moment.tzinfo else moment
        pattern = str(self.locale.datetime_formats["medium"])
        return pattern.replace("{1}", self.format_date(local.date())).replace(
            "{0}", _format_time(local, "short", locale=self.locale)
        )

    def month_name(self, month: int, width: str = "wide") -> str:
        """The name of month 1-12 (``三月`` / ``March``; ``width="abbreviated"``: ``Mar``)."""
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValidationError.at("month", f"expected 1-12, got {describe(month)}")
        return str(self.locale.months["format"][width][month])

    def month_label(self, year: int, month: int) -> str:
        """A month of a year (``2026年3月`` / ``March 2026``), for report axes."""
        self.month_name(month)
        return _format_skeleton("yMMMM", date(year, month, 1), locale=self.locale)


def _fields(text: str) -> frozenset[str] | None:
    try:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
    except ValueError:
        return None


def _same_fields(msgid: object, msgstr: object) -> bool:
    """Whether a translation uses the placeholders of its message id (else it is unusable:
    rendering it would miss a field, so the text counts as untranslated)."""
    ids = [msgid] if isinstance(msgid, str) else list(msgid)  # type: ignore[call-overload]
    texts = [msgstr] if isinstance(msgstr, str) else list(msgstr)  # type: ignore[call-overload]
    expected = _fields(str(ids[-1]))
    return expected is not None and all(_fields(str(t)) == expected for t in texts)


def _has_text(value: object) -> bool:
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, Sequence):
        return all(isinstance(v, str) and v for v in value)
    return False


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError.at("time_zone", f"unknown time zone {name!r}") from None


_CACHE: dict[tuple[str, str, int, int], Translator] = {}
_LOCK = threading.Lock()


def translator(language: str, catalog_dirs: Iterable[str | Path] = ()) -> Translator:
    """The :class:`Translator` of ``language`` from its catalog in ``catalog_dirs`` or built in.

    A language without a catalog gets a translator without texts (everything in English)
    but with its own number and date formats. Translators are cached per catalog file and
    its modification time, so an edited ``.po`` file is read again.
    """
    language = normalize_language(language)
    path = catalog_file(language, catalog_dirs)
    if path is None:
        key = (language, "", 0, 0)
    else:
        stat = path.stat()
        key = (language, str(path), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found
    made = Translator(language, None if path is None else _read_catalog(path, language))
    with _LOCK:
        return _CACHE.setdefault(key, made)
