"""Autodoc touches for csdomain's API pages: attrs signatures, short constants, no ``object``.

* attrs classes get their signature from :func:`attrs.fields`, with the real defaults
  (``note=''``, ``lines=()``, ``tags=frozenset()``), instead of the generated ``__init__``'s
  ``attr_dict['note'].default``; a default made by a factory shows what the factory makes
  when that is a plain empty container or a short value, else ``<factory>``.
* module constants whose value is longer than :data:`MAX_VALUE` characters (a transition
  table, a role table) show their type and size instead of a screen of ``repr``; the
  guide pages render those tables as tables.
* ``Bases: object`` is left out.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs
from sphinx.application import Sphinx
from sphinx.ext.autodoc import DataDocumenter


#: The longest constant value shown in full.
MAX_VALUE = 80


def _default_text(field: attrs.Attribute[Any]) -> str | None:
    default = field.default
    if default is attrs.NOTHING:
        return None
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:  # type: ignore[attr-defined]
            return "<factory>"
        try:
            made = default.factory()  # type: ignore[attr-defined]
        except Exception:  # a factory that needs context: say so
            return "<factory>"
        text = repr(made)
        return text if len(text) <= MAX_VALUE else "<factory>"
    if isinstance(default, enum.Enum):
        return f"{type(default).__name__}.{default.name}"
    text = repr(default)
    return text if len(text) <= MAX_VALUE else "<default>"


def attrs_signature(
    _app: Sphinx,
    what: str,
    _name: str,
    obj: Any,
    _options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """The signature of an attrs class from its fields (init fields only, with defaults)."""
    if what != "class" or not attrs.has(obj):
        return None
    parts: list[str] = []
    keyword_only = False
    for field in attrs.fields(obj):
        if not field.init:
            continue
        name = field.alias or field.name
        if field.kw_only and not keyword_only:
            parts.append("*")
            keyword_only = True
        default = _default_text(field)
        parts.append(name if default is None else f"{name}={default}")
    return f"({', '.join(parts)})", return_annotation


def drop_object_base(_app: Sphinx, _name: str, _obj: Any, _options: Any, bases: list[type]) -> None:
    """No ``Bases: object`` line under every class."""
    if bases == [object]:
        bases.clear()


class ShortDataDocumenter(DataDocumenter):
    """Module data whose ``repr`` is long shows its type and size instead of its value."""

    priority = DataDocumenter.priority + 1

    def should_suppress_value_header(self) -> bool:
        if len(repr(self.object)) > MAX_VALUE:
            return True
        return super().should_suppress_value_header()

    def add_content(self, more_content: Any) -> None:
        super().add_content(more_content)
        value = self.object
        if len(repr(value)) > MAX_VALUE:
            size = f" of {len(value)} entries" if hasattr(value, "__len__") else ""
            source = self.get_sourcename()
            self.add_line("", source)
            self.add_line(f"*A {type(value).__name__}{size}.*", source)


def _register_documenter(app: Sphinx, _config: Any) -> None:
    # after autodoc registers its own documenters on config-inited (priority 500)
    app.add_autodocumenter(ShortDataDocumenter, override=True)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the touches (a local Sphinx extension, see ``docs/conf.py``)."""
    app.connect("autodoc-process-signature", attrs_signature)
    app.connect("autodoc-process-bases", drop_object_base)
    app.connect("config-inited", _register_documenter, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
