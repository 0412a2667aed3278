"""sftkit's jupyter-server extension: the JSON endpoints behind the JupyterLab "Fine-tuning runs" plugin.

Enabled by `etc/jupyter/jupyter_server_config.d/sftkit.json`, which the package installs; the
prebuilt JupyterLab extension it serves lies in `share/jupyter/labextensions/sftkit-jupyterlab`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LAB_EXTENSION = "sftkit-jupyterlab"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "widgets.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": str(Path(__file__).resolve().parents[1] / "labextension"), "dest": LAB_EXTENSION}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the /sftkit/* handlers, serving run folders under the server's root folder."""
    from widgets.server.handlers import setup_handlers

    root = Path(server_app.root_dir).expanduser().resolve()
    setup_handlers(server_app.web_app, root)
    server_app.log.info("sftkit: fine-tuning runs under %s served at /sftkit/", root)
