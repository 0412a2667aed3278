"""sftkit's own errors: each message names the file, row, column or setting at fault."""

from __future__ import annotations

from typing import Any


class SftkitError(Exception):
    """Base of every error sftkit raises on purpose."""


class ConfigError(SftkitError, ValueError):
    """A setting is unknown, wrongly typed or out of range.

    One made by `ConfigError.about(template, **values)` keeps its English template and the values that fill it,
    so that a surface in another language (the hyperparameter panel in Chinese) can say the same thing in its
    own words; `str(error)` is the English message either way.
    """

    def __init__(self, message: str, *, template: str | None = None, values: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.template = template
        self.values = dict(values or {})

    @classmethod
    def about(cls, template: str, *, where: str | None = None, **values: Any) -> ConfigError:
        """The error whose message is `template` filled with `values` (str.format), after "`where`: " when
        given (the config file or --set the setting came from)."""
        text = template.format(**values)
        return cls(f"{where}: {text}" if where else text, template=template, values=values)


class DataError(SftkitError, ValueError):
    """A data file or dataset cannot be used as given."""


class ModelError(SftkitError):
    """A model cannot be found or loaded."""


class AssetMissingError(SftkitError, ImportError):
    """An offline zoo asset's package is not installed."""


class TrainingError(SftkitError, RuntimeError):
    """Training cannot go on (a non-finite loss, for example)."""
