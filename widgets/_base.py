"""What every sftkit widget shares: a deterministic repr, and a static copy of its state in the output.

A widget's output bundle holds the live view (for a running frontend), text/plain (for
terminals and nbval, so it must not contain ids or timings) and text/html: the widget's
state drawn as plain HTML/SVG, which GitHub, nbviewer and HTML exports show when they
cannot run widgets.

A bundle is made when the widget is displayed; a frontend later sees only the live view. So a
widget is displayed under a display id, and `_update_static_copy()` replaces its displayed
bundles when the state worth keeping changes (a run ends, a cell is selected): a notebook saved
afterwards holds that state, with no `snapshot()` call.
"""

from __future__ import annotations

import uuid
from typing import Any

# A display update goes out under two parents. JupyterLab applies an update only in the output
# area of the cell whose request is its parent: the cell that displayed the widget. nbclient
# (nbconvert --execute) listens only to the cell it is running, and applies an update there to
# any earlier output with the same display id. Each ignores the message meant for the other.
_MAX_PARENTS = 4


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

    def _ipython_display_(self) -> None:
        """Display under this widget's display id, remembering the cell that displayed it."""
        from IPython.display import display

        data, metadata = self._bundle()
        parent = _current_parent()
        parents = self.__dict__.setdefault("_display_parents", [])
        if parent and all(p.get("msg_id") != parent.get("msg_id") for p in parents):
            parents.append(parent)
            del parents[:-_MAX_PARENTS]
        display(data, metadata=metadata, raw=True, display_id=self.display_id)

    @property
    def display_id(self) -> str:
        """The id this widget's outputs are displayed under (transient: never saved in a notebook)."""
        return self.__dict__.setdefault("_display_id", f"sftkit-{uuid.uuid4().hex}")

    @property
    def displayed(self) -> bool:
        """Whether the widget was displayed in a kernel (its outputs can be updated)."""
        return bool(self.__dict__.get("_display_parents"))

    def _bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        bundle = self._repr_mimebundle_()
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        return dict(data), dict(metadata or {})

    def _update_static_copy(self) -> None:
        """Replace every displayed output of this widget with its current bundle (live view, text, HTML)."""
        if not self.displayed:
            return
        from IPython.display import update_display

        data, metadata = self._bundle()
        publisher = _display_publisher()
        current = _current_parent()
        targets = [*self.__dict__["_display_parents"]]
        if current and all(p.get("msg_id") != current.get("msg_id") for p in targets):
            targets.append(current)
        if publisher is None or not hasattr(publisher, "set_thread_parent"):
            update_display(data, metadata=metadata, raw=True, display_id=self.display_id)
            return
        for parent in targets:
            # Per thread (a context variable): the kernel's own parent is left as it is.
            token = publisher.set_thread_parent(parent)
            try:
                update_display(data, metadata=metadata, raw=True, display_id=self.display_id)
            finally:
                publisher.reset_thread_parent(token)

    def snapshot(self) -> Snapshot:
        """The widget's current state as a static output (HTML + text), e.g. to keep one moment of it."""
        return Snapshot(repr(self), self.to_html())


def _display_publisher() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "display_pub", None) if shell is not None else None


def _current_parent() -> dict[str, Any] | None:
    """The header of the request now being answered in this thread (the running cell), if in a kernel."""
    header = getattr(_display_publisher(), "parent_header", None)
    return dict(header) if header else None


class Snapshot:
    """A static copy of a widget: shows as HTML where HTML renders, as its text elsewhere."""

    def __init__(self, text: str, html: str) -> None:
        self.text, self.html = text, html

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f'<div class="sftkit-static">{self.html}</div>'
