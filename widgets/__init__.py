"""sftkit's Jupyter side: widgets that browse a dataset, set hyperparameters, watch training and read the
confusion matrix; experiment reports; the JupyterLab extension's server part.

    from widgets import DatasetBrowser, HyperparamPanel, LiveMonitor, ConfusionMatrixViewer

Each widget speaks English or Simplified Chinese: `language="zh"`, or $SFTKIT_LANG=zh (as the exercises
read it); widgets/i18n.py holds the catalog. Each widget has a deterministic repr and leaves a static HTML copy of its state in the
output, for frontends and exports that do not run widgets. Names are imported when first used
(PEP 562), so the server extension and `widgets.report` load without the widget stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"DatasetBrowser": "widgets.browser", "ConfusionMatrixViewer": "widgets.confusion",
            "HyperparamPanel": "widgets.hparams", "LiveMonitor": "widgets.monitor", "MonitorCallback": "widgets.monitor"}
# Modules of the `notebooks` extra that the widgets need: a missing one is named with the fix.
_NOTEBOOK_EXTRA = {"ipywidgets", "anywidget", "traitlets", "IPython", "ipykernel"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'widgets' has no attribute {name!r}")
    try:
        module = importlib.import_module(_EXPORTS[name])
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] in _NOTEBOOK_EXTRA:
            raise ModuleNotFoundError(f"widgets.{name} needs {err.name}, from the notebooks extra: "
                                      "pip install 'sftkit[notebooks]'", name=err.name) from None
        raise
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
