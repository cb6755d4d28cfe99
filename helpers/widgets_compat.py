"""The one place that knows ipywidgets 7 (Colab's 7.7.1) from ipywidgets 8.

Colab's front end is matched to ipywidgets 7.7.1 and the setup cell rightly leaves it alone, while
``make lab`` installs 8.x, so every widget of the kit must work on both. Almost all of the API the
kit uses is common to both (core controls, ``Layout``/``style`` dicts, ``Output.outputs``,
``observe(names="value")``, ``add_class``, ``Tab.set_title``); what differs is handled here and
nowhere else:

- **Display.** 8.x widgets display through ``_repr_mimebundle_``; 7.x widgets have no such method
  and display through ``_ipython_display_``. An object that *wraps* a widget (the LR explorer)
  returns :func:`mimebundle` from its own ``_repr_mimebundle_``, which works on both.
- **Tab/Accordion titles.** 8.x has a ``titles`` trait, 7.x does not: call ``set_title(i, text)``,
  which both have.
- **HTML in descriptions.** ``description_allow_html`` exists in 8.x only (7.x shows descriptions
  as text): put rich text in a separate ``widgets.HTML`` instead, as the quiz does.
"""

from __future__ import annotations

from typing import Any

import ipywidgets

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
# The widget-view payload both 7.7.1 and 8.x send (protocol 2.0).
_VIEW_VERSION = {"version_major": 2, "version_minor": 0}
_TEXT_LIMIT = 110  # both versions cut text/plain to 110 characters


def ipywidgets_major() -> int:
    """The installed ipywidgets' major version (7 on Colab, 8 in ``make lab``)."""
    return int(str(ipywidgets.__version__).split(".")[0])


def mimebundle(widget: ipywidgets.Widget, text: str | None = None) -> dict[str, Any]:
    """What displaying ``widget`` sends on any ipywidgets version: the widget view (for the front
    end) and ``text/plain`` (``text`` if given, for plain-text front ends and logs).

    On 8.x this is the widget's own ``_repr_mimebundle_``; on 7.x the same bundle that its
    ``_ipython_display_`` would publish, with its on-displayed callbacks fired as 7.x does. A closed
    widget (both versions then drop their display method) gives ``text/plain`` only.
    """
    if not isinstance(widget, ipywidgets.Widget):
        raise TypeError(f"mimebundle needs an ipywidgets widget, got {type(widget).__name__}")
    own = getattr(widget, "_repr_mimebundle_", None)
    if callable(own):  # ipywidgets 8
        bundle = dict(own() or {})
    elif callable(getattr(widget, "_ipython_display_", None)) and widget._view_name is not None:  # ipywidgets 7
        plain = repr(widget)
        bundle = {
            "text/plain": plain[:_TEXT_LIMIT] + "…" if len(plain) > _TEXT_LIMIT else plain,
            WIDGET_VIEW_MIME: {**_VIEW_VERSION, "model_id": widget.model_id},
        }
        widget._handle_displayed()
    else:  # closed, or a widget without a view
        bundle = {"text/plain": repr(widget)}
    if text is not None:
        bundle["text/plain"] = text
    return bundle

