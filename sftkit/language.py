"""Which language the course's messages are shown in: one setting for the exercises' checks and the widgets."""

from __future__ import annotations

import os
import re

LANGUAGE_VARIABLE = "SFTKIT_LANG"
DEFAULT_LANGUAGE = "en"


def resolve_language(language: str | None = None) -> str:
    """The argument, else $SFTKIT_LANG, else English. Only the language part counts: "zh-CN", "zh_CN.UTF-8"
    and "zh" all give "zh"."""
    chosen = language or os.environ.get(LANGUAGE_VARIABLE) or DEFAULT_LANGUAGE
    return re.split(r"[-_.]", chosen)[0].lower()
