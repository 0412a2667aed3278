"""sftkit's own errors: each message names the file, row, column or setting at fault."""


class SftkitError(Exception):
    """Base of every error sftkit raises on purpose."""


class ConfigError(SftkitError, ValueError):
    """A setting is unknown, wrongly typed or out of range."""


class DataError(SftkitError, ValueError):
    """A data file or dataset cannot be used as given."""


class ModelError(SftkitError):
    """A model cannot be found or loaded."""


class AssetMissingError(SftkitError, ImportError):
    """An offline zoo asset's package is not installed."""


class TrainingError(SftkitError, RuntimeError):
    """Training cannot go on (a non-finite loss, for example)."""
