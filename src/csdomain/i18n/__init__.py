"""Languages: gettext catalogs per language and the language's number, money and date formats.

csdomain writes its texts in English (the message ids) and ships a Chinese (``zh-CN``)
catalog; a third language is one ``.po`` file in a directory named by
``notifications.catalog_dirs`` (see docs/notifications.md, "Languages"). Everything is in
:mod:`csdomain.i18n.catalogs`:

- :func:`translator` gives the :class:`Translator` of a language: ``gettext``,
  ``pgettext``, ``ngettext``, ``has`` (is a text translated?), ``format_money``,
  ``format_number``, ``format_percent``, ``format_date``, ``format_datetime``,
  ``month_name`` and ``month_label`` (Babel, CLDR data);
- :func:`normalize_language` spells a tag one way (``zh_CN`` -> ``zh-CN``);
- :func:`available_languages` lists the languages that have a catalog;
- :func:`N_` and :func:`NP_` mark texts for extraction (``babel.cfg`` beside this file:
  ``pybabel extract -F src/csdomain/i18n/babel.cfg -k N_ -k NP_:1c,2 -o
  src/csdomain/i18n/locale/csdomain.pot src/csdomain``).
"""

from __future__ import annotations

from csdomain.i18n.catalogs import (
    BUILTIN_CATALOG_DIR,
    DOMAIN,
    N_,
    NP_,
    SOURCE_LANGUAGE,
    Translator,
    available_languages,
    catalog_file,
    normalize_language,
    translator,
)


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
