"""sftkit's Jupyter widgets: browse a dataset, set hyperparameters, watch training, read the confusion matrix.

    from widgets import DatasetBrowser, HyperparamPanel, LiveMonitor, ConfusionMatrixViewer

Each widget has a deterministic repr and leaves a static HTML copy of its state in the
output, for frontends and exports that do not run widgets.
"""

from widgets.browser import DatasetBrowser
from widgets.confusion import ConfusionMatrixViewer
from widgets.hparams import HyperparamPanel
from widgets.monitor import LiveMonitor, MonitorCallback

__all__ = ["ConfusionMatrixViewer", "DatasetBrowser", "HyperparamPanel", "LiveMonitor", "MonitorCallback"]
