"""The jupyter-server extension behind the JupyterLab plugin, through a real server (pytest-jupyter).

Run folders are written here by hand, following the run-folder contract (sftkit-run.json,
config.json, log_history.json, metrics.json, evaluation.json, model/), so each test reads
exactly the records it means to; one test exports a report from them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from run_folders import WEIGHTS, make_run
from tornado.httpclient import HTTPClientError

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"widgets.server": True}}}


async def get_json(jp_fetch, endpoint: str, **params: str) -> Any:
    response = await jp_fetch("sftkit", endpoint, params=params)
    assert response.code == 200
    return json.loads(response.body)


async def post_json(jp_fetch, endpoint: str, body: Any) -> Any:
    response = await jp_fetch("sftkit", endpoint, method="POST", body=json.dumps(body))
    assert response.code == 200
    return json.loads(response.body)


async def refused(jp_fetch, endpoint: str, *, body: Any = None, **params: str) -> tuple[int, str]:
    """The status and JSON message of a request that must fail."""
    kwargs = {"method": "POST", "body": json.dumps(body)} if body is not None else {"params": params}
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("sftkit", endpoint, **kwargs)
    return info.value.code, json.loads(info.value.response.body)["error"]


async def test_list_runs_newest_first_with_unreadable_folders(jp_fetch, jp_root_dir: Path) -> None:
    make_run(jp_root_dir, "runs/older", started=1000.0)
    make_run(jp_root_dir, "notebooks/runs/tour/newer", started=2000.0, dataset="rotten_tomatoes")
    corrupt = jp_root_dir / "runs" / "half-written"
    corrupt.mkdir()
    (corrupt / "sftkit-run.json").write_text('{"sftkit_run": 1, "status": "runn')
    foreign = jp_root_dir / "runs" / "copied-by-hand"
    foreign.mkdir()
    (foreign / "metrics.json").write_text("{}")
    (jp_root_dir / "runs" / ".older.sftkit-tmp-1").mkdir()  # a temporary folder: never listed

    runs = (await get_json(jp_fetch, "runs"))["runs"]
    by_path = {r["path"]: r for r in runs}
    assert set(by_path) == {"runs/older", "notebooks/runs/tour/newer", "runs/half-written", "runs/copied-by-hand"}
    readable = [r["path"] for r in runs if r["status"] != "unreadable"]
    assert readable == ["notebooks/runs/tour/newer", "runs/older"]  # newest first
    newer = by_path["notebooks/runs/tour/newer"]
    assert (newer["status"], newer["task"], newer["model"], newer["dataset"]) == \
        ("completed", "classification", "tiny", "rotten_tomatoes")
    assert (newer["main_metric"], newer["main_value"]) == ("accuracy", 0.8125)
    assert newer["loss"][0] == [1, 1.0] and newer["loss"][-1] == [20, 0.05] and len(newer["loss"]) == 20
    bad = by_path["runs/half-written"]
    assert bad["status"] == "unreadable" and "sftkit-run.json" in bad["error"] and "unreadable" in bad["error"]
    assert str(jp_root_dir) not in bad["error"]  # no server paths leak to the browser
    assert "no sftkit-run.json" in by_path["runs/copied-by-hand"]["error"]


async def test_running_run_whose_process_died_lists_as_failed(jp_fetch, jp_root_dir: Path) -> None:
    make_run(jp_root_dir, "runs/alive", status="running", pid=os.getpid())
    dead = make_run(jp_root_dir, "runs/killed", status="running", pid=_dead_pid())
    runs = {r["name"]: r for r in (await get_json(jp_fetch, "runs"))["runs"]}
    assert runs["alive"]["status"] == "running" and runs["alive"]["main_value"] is None
    assert runs["killed"]["status"] == "failed" and "ended without finishing" in runs["killed"]["error"]
    # The record on disk is left as the engine wrote it: reading never changes a run folder.
    assert json.loads((dead / "sftkit-run.json").read_text())["status"] == "running"


async def test_list_follows_a_run_as_it_finishes(jp_fetch, jp_root_dir: Path) -> None:
    folder = make_run(jp_root_dir, "runs/live", status="running", pid=os.getpid(), steps=5)
    first = (await get_json(jp_fetch, "runs"))["runs"][0]
    assert first["status"] == "running" and len(first["loss"]) == 5
    record = json.loads((folder / "sftkit-run.json").read_text())
    record.update(status="completed", main_value=0.9, ended=time.time())
    (folder / "sftkit-run.json").write_text(json.dumps(record))
    history = json.loads((folder / "log_history.json").read_text()) + [{"step": 6, "loss": 0.1}]
    (folder / "log_history.json").write_text(json.dumps(history))
    second = (await get_json(jp_fetch, "runs"))["runs"][0]
    assert second["status"] == "completed" and second["main_value"] == 0.9 and second["loss"][-1] == [6, 0.1]


async def test_one_run_has_what_the_run_view_shows(jp_fetch, jp_root_dir: Path) -> None:
    make_run(jp_root_dir, "runs/a")
    response = await jp_fetch("sftkit", "run", params={"path": "runs/a"})
    run = json.loads(response.body)
    assert run["name"] == "a" and run["path"] == "runs/a" and run["status"]["status"] == "completed"
    assert run["config"]["lr"] == 1e-3 and run["metrics"]["test"]["accuracy"] == 0.8125
    assert run["evaluation"]["confusion"] == [[5, 1], [2, 8]]
    assert run["evaluation"]["top_losses"][0]["text"].startswith("<script>")  # data, shown as text by the view
    assert len(run["curves"]["train_loss"]) == 20 and run["curves"]["eval_loss"] == [[20, 0.4]]
    assert run["curves"]["lr"][0] == [1, pytest.approx(0.00095)]
    assert run["model_path"] == "runs/a/model"
    commands = {u["label"]: u["code"] for u in run["usage"]}
    assert commands["Evaluate"] == "sftkit eval --model runs/a"
    assert commands["Predict"].startswith("sftkit predict --model runs/a ")
    assert "runs/a/model" in commands["Python"]
    assert WEIGHTS not in response.body and b"WEIGHTS-MUST-NOT" not in response.body


async def test_compare_shows_the_settings_that_differ(jp_fetch, jp_root_dir: Path, http_server_client,
                                                      jp_auth_header, jp_base_url) -> None:
    make_run(jp_root_dir, "runs/a", lr=1e-3)
    make_run(jp_root_dir, "runs/b", lr=5e-3)
    response = await http_server_client.fetch(f"{jp_base_url}sftkit/compare?path=runs/a&path=runs/b",
                                              headers=jp_auth_header)
    data = json.loads(response.body)
    assert [r["path"] for r in data["runs"]] == ["runs/a", "runs/b"]
    assert data["differ"]["lr"] == [1e-3, 5e-3]
    assert data["same"]["dataset"] == "toy" and "lr" not in data["same"]
    assert [m["test"]["accuracy"] for m in data["metrics"]] == [0.8125, 0.8125]
    assert len(data["runs"][1]["curves"]["train_loss"]) == 20
    code, message = await refused(jp_fetch, "compare", path="runs/a")
    assert code == 400 and "two or more" in message


@pytest.mark.parametrize("path, code, words", [
    ("../outside", 400, "'..' is refused"),
    ("runs/../../outside", 400, "'..' is refused"),
    ("/etc", 400, "absolute paths are refused"),
    ("", 400, "relative to the server's root"),
    ("runs/missing", 404, "no such folder"),
    ("runs/plain", 404, "not an sftkit run folder"),
    ("runs/link-out", 403, "outside the server's root"),
    ("runs/link-in", 404, "not an sftkit run folder"),
    ("runs/a/model", 404, "not an sftkit run folder"),
])
async def test_refused_paths(jp_fetch, jp_root_dir: Path, tmp_path: Path, path: str, code: int, words: str) -> None:
    make_run(jp_root_dir, "runs/a")
    (jp_root_dir / "runs" / "plain").mkdir()
    outside = make_run(tmp_path, "elsewhere/secret-run")  # a real run, but outside the root
    (jp_root_dir / "runs" / "link-out").symlink_to(outside)
    (jp_root_dir / "runs" / "link-in").symlink_to(jp_root_dir / "runs" / "a")
    for endpoint, kwargs in (("run", {"path": path}), ("delete", {"body": {"path": path}}),
                             ("rename", {"body": {"path": path, "name": "x"}}),
                             ("report", {"body": {"paths": [path]}})):
        got, message = await refused(jp_fetch, endpoint, **kwargs)
        assert (got, words in message) == (code, True), (endpoint, message)
    assert outside.is_dir() and (jp_root_dir / "runs" / "a" / "sftkit-run.json").is_file()
    assert (jp_root_dir / "runs" / "link-in").is_symlink() and (jp_root_dir / "runs" / "plain").is_dir()


async def test_delete_and_rename(jp_fetch, jp_root_dir: Path) -> None:
    make_run(jp_root_dir, "runs/a")
    make_run(jp_root_dir, "runs/b")
    make_run(jp_root_dir, "runs/going", status="running", pid=os.getpid())

    assert await post_json(jp_fetch, "rename", {"path": "runs/a", "name": "baseline"}) == \
        {"path": "runs/baseline", "name": "baseline"}
    assert not (jp_root_dir / "runs" / "a").exists()
    assert json.loads((jp_root_dir / "runs" / "baseline" / "sftkit-run.json").read_text())["name"] == "baseline"
    code, message = await refused(jp_fetch, "rename", body={"path": "runs/baseline", "name": "b"})
    assert code == 409 and "already exists" in message
    for bad in ("../x", "a/b", ".hidden", "<img src=x onerror=alert(1)>", ""):
        code, message = await refused(jp_fetch, "rename", body={"path": "runs/baseline", "name": bad})
        assert code == 400 and "run_name" in message, (bad, message)
    code, message = await refused(jp_fetch, "rename", body={"path": "runs/going", "name": "other"})
    assert code == 409 and "in progress" in message

    code, message = await refused(jp_fetch, "delete", body={"path": "runs/going"})
    assert code == 409 and "in progress" in message and (jp_root_dir / "runs" / "going").is_dir()
    assert await post_json(jp_fetch, "delete", {"path": "runs/b"}) == {"deleted": "runs/b"}
    assert not (jp_root_dir / "runs" / "b").exists()
    names = sorted(r["name"] for r in (await get_json(jp_fetch, "runs"))["runs"])
    assert names == ["baseline", "going"]


async def test_requests_without_the_token_are_refused(jp_fetch, jp_root_dir: Path, http_server_client,
                                                      jp_base_url) -> None:
    make_run(jp_root_dir, "runs/a")
    for method, endpoint, body in (("GET", "runs", None), ("GET", "run?path=runs/a", None),
                                   ("POST", "delete", json.dumps({"path": "runs/a"})),
                                   ("POST", "rename", json.dumps({"path": "runs/a", "name": "b"}))):
        with pytest.raises(HTTPClientError) as info:
            await http_server_client.fetch(f"{jp_base_url}sftkit/{endpoint}", method=method, body=body)
        assert info.value.code == 403, (method, endpoint)
    assert (jp_root_dir / "runs" / "a" / "sftkit-run.json").is_file()
    # With the token the same request works: the refusal was the missing token.
    assert (await get_json(jp_fetch, "runs"))["runs"][0]["name"] == "a"


async def test_new_notebook_from_the_template(jp_fetch, jp_root_dir: Path) -> None:
    import nbformat

    (jp_root_dir / "work").mkdir()
    first = await post_json(jp_fetch, "new-notebook", {"dir": "work"})
    second = await post_json(jp_fetch, "new-notebook", {"dir": "work"})
    assert (first["path"], second["path"]) == ("work/fine-tuning.ipynb", "work/fine-tuning-2.ipynb")
    nb = nbformat.read(jp_root_dir / first["path"], as_version=4)
    nbformat.validate(nb)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for piece in ("TrainConfig(", "DatasetBrowser(", "HyperparamPanel(", "LiveMonitor(", "ConfusionMatrixViewer(",
                  "result.folder"):
        assert piece in source
    code, _ = await refused(jp_fetch, "new-notebook", body={"dir": "../.."})
    assert code == 400


async def test_open_the_course_copies_once_and_never_overwrites(jp_fetch, jp_root_dir: Path) -> None:
    first = await post_json(jp_fetch, "course", {})
    assert first["path"] == "sftkit-course/01_background.ipynb"
    course = jp_root_dir / "sftkit-course"
    assert (course / "01_background.ipynb").is_file() and (course / "09_faq.ipynb").is_file()
    assert "05_text_classification.ipynb" in first["copied"] and "GLOSSARY.md" in first["copied"]
    assert "zh/01_background.ipynb" in first["copied"] and (course / "zh" / "01_background.ipynb").is_file()
    (course / "01_background.ipynb").write_text("my edits")
    second = await post_json(jp_fetch, "course", {})
    assert second["copied"] == [] and second["path"] == "sftkit-course/01_background.ipynb"
    assert (course / "01_background.ipynb").read_text() == "my edits"


async def test_open_the_course_in_chinese_opens_the_zh_edition(jp_fetch, jp_root_dir: Path) -> None:
    answer = await post_json(jp_fetch, "course", {"language": "zh"})
    assert answer["path"] == "sftkit-course/zh/01_background.ipynb"
    chapter = json.loads((jp_root_dir / answer["path"]).read_text(encoding="utf-8"))
    assert "背景" in "".join(chapter["cells"][0]["source"])
    english = await post_json(jp_fetch, "course", {"language": "en"})
    assert english["path"] == "sftkit-course/01_background.ipynb" and english["copied"] == []
    code, message = await refused(jp_fetch, "course", body={"language": "fr"})
    assert code == 400 and "language must be one of en, zh" in message


async def test_export_report_writes_notebook_and_html_with_plots(jp_fetch, jp_root_dir: Path) -> None:
    make_run(jp_root_dir, "runs/a", lr=1e-3)
    make_run(jp_root_dir, "runs/b", lr=5e-3)
    one = await post_json(jp_fetch, "report", {"paths": ["runs/a"]})
    assert one == {"notebook": "reports/a-report.ipynb", "html": "reports/a-report.html"}
    both = await post_json(jp_fetch, "report", {"paths": ["runs/a", "runs/b"]})
    assert both["notebook"].startswith("reports/compare-2-runs-") and both["html"].endswith(".html")
    html = (jp_root_dir / both["html"]).read_text()
    assert "data:image/png;base64," in html  # the curves, as images that survive without a kernel
    assert "&lt;script&gt;window.__xss" in (jp_root_dir / one["html"]).read_text()  # top losses, escaped
    again = await post_json(jp_fetch, "report", {"paths": ["runs/a"]})
    assert again["notebook"] == "reports/a-report-2.ipynb"  # a second export never replaces the first


def _dead_pid() -> int:
    """A pid that no process has now."""
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_the_run_view_commands_follow_the_runs_task() -> None:
    """The commands under a run use its task's input, Auto class and pipeline (from the task registry)."""
    from widgets.server.index import usage

    tokens = {u["label"]: u["code"] for u in usage("runs/ner", "tokens", True)}
    assert tokens["Predict"] == "sftkit predict --model runs/ner 'Ada Okafor joined Lumen Labs in Lisbon .'"
    assert "AutoModelForTokenClassification.from_pretrained('runs/ner/model')" in tokens["transformers"]
    assert "pipeline('token-classification'" in tokens["pipeline"]
    chat = {u["label"]: u["code"] for u in usage("runs/chat", "chat", True)}
    assert "AutoModelForCausalLM" in chat["transformers"] and "'text-generation'" in chat["pipeline"]
    assert [u["label"] for u in usage("runs/x", "a-task-not-registered-here", True)] == ["Evaluate"]
    assert usage("runs/x", "tokens", False) == []
