"""The HTTP side of the JupyterLab extension: JSON endpoints under /sftkit/, behind Jupyter's auth.

Every handler is a jupyter-server APIHandler with `@tornado.web.authenticated`: a request
without the server's token (or cookie, plus the XSRF token for POSTs) is refused before any
code here runs. Paths come from the browser relative to the server's root and go through
`index.resolve_run`. Slow work (reports run a kernel) goes to a thread so the server keeps
answering.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from widgets.server import index
from widgets.server.index import PathRefused, RunIndex

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "new_run.ipynb"
COURSE_FOLDER = "sftkit-course"
COURSE_EDITIONS = {"en": ".", "zh": "zh"}  # language -> the edition's folder inside the course


class _Base(APIHandler):
    @property
    def root(self) -> Path:
        return Path(self.settings["sftkit_root"])

    @property
    def run_index(self) -> RunIndex:
        return self.settings["sftkit_index"]

    def fail(self, status: int, message: str) -> None:
        self.set_status(status)
        self.finish(json.dumps({"error": message}))

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise PathRefused(400, "the request body is not JSON") from None
        if not isinstance(data, dict):
            raise PathRefused(400, "the request body must be a JSON object")
        return data

    def run_path(self, relative: Any) -> Path:
        return index.resolve_run(self.root, relative)

    async def guarded(self, work: Any) -> None:
        """Answer with work()'s JSON, or with {"error": ...} and the right status for what went wrong."""
        from sftkit.errors import ConfigError, SftkitError

        try:
            result = await work()
        except PathRefused as err:
            return self.fail(err.status, str(err))
        except ConfigError as err:  # refused by the engine: not a run, running, a bad or taken name
            return self.fail(409 if "in progress" in str(err) or "already exists" in str(err) else 400,
                             _short(str(err), self.root))
        except SftkitError as err:
            return self.fail(422, _short(str(err), self.root))
        self.finish(json.dumps(_finite(result), default=_json_default, allow_nan=False))


class RunsHandler(_Base):
    """GET /sftkit/runs: every run under the root, newest first (the sidebar polls this)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        async def work() -> dict[str, Any]:
            runs = await asyncio.get_running_loop().run_in_executor(None, self.run_index.list)
            return {"runs": runs}
        await self.guarded(work)


class RunHandler(_Base):
    """GET /sftkit/run?path=runs/NAME: one run's records, curves and evaluation."""

    @tornado.web.authenticated
    async def get(self) -> None:
        async def work() -> dict[str, Any]:
            folder = self.run_path(self.get_argument("path", ""))
            return index.run_details(self.root, folder)
        await self.guarded(work)


class CompareHandler(_Base):
    """GET /sftkit/compare?path=A&path=B...: curves, metrics and differing settings of several runs."""

    @tornado.web.authenticated
    async def get(self) -> None:
        async def work() -> dict[str, Any]:
            paths = self.get_arguments("path")
            if len(paths) < 2:
                raise PathRefused(400, "select two or more runs to compare")
            return index.compare(self.root, [self.run_path(p) for p in paths])
        await self.guarded(work)


class DeleteHandler(_Base):
    """POST /sftkit/delete {"path"}: delete a run folder (never a running run, never a non-run)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> dict[str, Any]:
            from sftkit.runs import delete_run

            folder = self.run_path(self.body().get("path"))
            rel = index.relative_to(self.root, folder)
            delete_run(folder)
            return {"deleted": rel}
        await self.guarded(work)


class RenameHandler(_Base):
    """POST /sftkit/rename {"path", "name"}: give a run a new folder name beside the old one."""

    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> dict[str, Any]:
            from sftkit.runs import rename_run

            data = self.body()
            folder = self.run_path(data.get("path"))
            name = data.get("name")
            if not isinstance(name, str):
                raise PathRefused(400, "give the new name as a string")
            target = rename_run(folder, name)
            return {"path": index.relative_to(self.root, target), "name": target.name}
        await self.guarded(work)


class ReportHandler(_Base):
    """POST /sftkit/report {"paths": [...]}: write reports/<name>-report.ipynb (executed) and its HTML."""

    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> dict[str, Any]:
            paths = self.body().get("paths")
            if not isinstance(paths, list) or not paths:
                raise PathRefused(400, "give \"paths\": a list of one or more run folders")
            folders = [self.run_path(p) for p in paths]
            notebook, html = index.report_paths(self.root, folders)
            notebook.parent.mkdir(exist_ok=True)  # the report's kernel starts in this folder
            from widgets.report import write_report

            written = await asyncio.get_running_loop().run_in_executor(
                None, lambda: write_report(folders, notebook=notebook, html=html))
            return {kind: index.relative_to(self.root, Path(path).resolve()) for kind, path in written.items()}
        await self.guarded(work)


class NewNotebookHandler(_Base):
    """POST /sftkit/new-notebook {"dir"}: a fine-tuning notebook from the template, under a free name."""

    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> dict[str, Any]:
            where = self.body().get("dir") or ""
            folder = self.root if where in ("", ".") else index.resolve_run(self.root, where, must_be_run=False)
            if not folder.is_dir():
                raise PathRefused(404, f"{where!r}: no such folder under the server's root")
            target = index.free_path(folder, "fine-tuning", (".ipynb",)).with_suffix(".ipynb")
            shutil.copyfile(TEMPLATE, target)
            return {"path": index.relative_to(self.root, target)}
        await self.guarded(work)


class CourseHandler(_Base):
    """POST /sftkit/course {"language": "en" | "zh"}: copy the chapter notebooks (and the zh-CN edition
    beside them) into sftkit-course/, never overwriting, and name chapter 1 in that language, so a student
    edits a copy and never the installed originals."""

    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> dict[str, Any]:
            language = self.body().get("language", "en")
            if language not in COURSE_EDITIONS:
                raise PathRefused(400, f"language must be one of {', '.join(COURSE_EDITIONS)}, got {language!r}")
            source = course_source()
            if source is None:
                raise PathRefused(404, "the course notebooks are not installed: reinstall sftkit (pip install sftkit)")
            target = self.root / COURSE_FOLDER
            if target.is_symlink() or (target.exists() and not target.is_dir()):
                raise PathRefused(403, f"{COURSE_FOLDER} under the server's root is not a real folder")
            copied = []
            # the chapters, their guides, and the zh-CN edition in zh/ beside them (as in the repository)
            for folder, into in ((source, target), (source / "zh", target / "zh")):
                if not folder.is_dir() or into.is_symlink() or (into.exists() and not into.is_dir()):
                    continue
                into.mkdir(exist_ok=True)
                for path in sorted(folder.iterdir()):
                    dest = into / path.name
                    if path.suffix in (".ipynb", ".md") and path.is_file() and not dest.exists() \
                            and not dest.is_symlink():
                        shutil.copyfile(path, dest)
                        copied.append(str(dest.relative_to(target)))
            edition = target / COURSE_EDITIONS[language]
            chapters = sorted(p.name for p in edition.glob("0*.ipynb"))
            if not chapters:
                raise PathRefused(404, f"no chapter notebooks in {source / COURSE_EDITIONS[language]}")
            first = (edition / chapters[0]).relative_to(self.root)
            return {"path": first.as_posix(), "copied": copied, "folder": COURSE_FOLDER}
        await self.guarded(work)


def course_source() -> Path | None:
    """The installed chapter notebooks: the repository's notebooks/ in a source checkout (editable
    install), else the copy a wheel installs under <prefix>/share/sftkit/notebooks."""
    import site
    import sys

    here = Path(__file__).resolve().parents[2] / "notebooks"
    candidates = [here, Path(sys.prefix) / "share" / "sftkit" / "notebooks",
                  Path(site.getuserbase()) / "share" / "sftkit" / "notebooks"]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("0*.ipynb")):
            return folder
    return None


def _short(message: str, root: Path) -> str:
    """Errors name folders relative to the root: the browser has no use for the server's absolute paths."""
    return message.replace(f"{root.resolve()}/", "").replace(f"{root}/", "")


def _finite(value: Any) -> Any:
    """NaN and infinities as null: JSON has no word for them, and a diverged run's loss is one."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def setup_handlers(web_app: Any, root: Path) -> None:
    web_app.settings["sftkit_root"] = str(root)
    web_app.settings["sftkit_index"] = RunIndex(root)
    base = url_path_join(web_app.settings["base_url"], "sftkit")
    routes = [("runs", RunsHandler), ("run", RunHandler), ("compare", CompareHandler), ("delete", DeleteHandler),
              ("rename", RenameHandler), ("report", ReportHandler), ("new-notebook", NewNotebookHandler),
              ("course", CourseHandler)]
    web_app.add_handlers(".*$", [(url_path_join(base, name), handler) for name, handler in routes])
