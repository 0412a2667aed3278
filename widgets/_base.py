"""What every sftkit widget shares: a deterministic repr, and a static copy of its state in the output.

A widget's output bundle holds the live view (for a running frontend), text/plain (for
terminals and nbval, so it must not contain ids or timings) and text/html: the widget's
state drawn as plain HTML/SVG, which GitHub, nbviewer and HTML exports show when they
cannot run widgets.
"""

from __future__ import annotations

from typing import Any

STYLE = ("<style>.sftkit-static table.sftkit-table{border-collapse:collapse;font-size:12px}"
         ".sftkit-static .sftkit-table td,.sftkit-static .sftkit-table th{border:1px solid #ddd;padding:2px 6px;"
         "text-align:left;vertical-align:top}</style>")


class StaticCopyMixin:
    """Mix into an ipywidgets container: subclasses define `__repr__` and `to_html()`."""

    def to_html(self) -> str:  # pragma: no cover - every widget overrides it
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs) or {}  # type: ignore[misc]
        # anywidget returns (data, metadata); ipywidgets returns data alone.
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, None)
        data = {**data, "text/plain": repr(self), "text/html": f'<div class="sftkit-static">{self.to_html()}</div>'}
        return (data, metadata) if metadata is not None else data

    def snapshot(self) -> "Snapshot":
        """The widget's current state as a static output (HTML + text), e.g. after training ends."""
        return Snapshot(repr(self), self.to_html())


class Snapshot:
    """A static copy of a widget: shows as HTML where HTML renders, as its text elsewhere."""

    def __init__(self, text: str, html: str) -> None:
        self.text, self.html = text, html

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f'<div class="sftkit-static">{self.html}</div>'
