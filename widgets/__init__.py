"""sftkit's Jupyter widgets: browse a dataset, set hyperparameters, watch training, read the confusion matrix.

    from widgets import DatasetBrowser, HyperparamPanel, LiveMonitor, ConfusionMatrixViewer
"""

from widgets.browser import DatasetBrowser

__all__ = ["DatasetBrowser"]
