"""Safety as tests: no code from users runs (a scan of the project's source), Streamlit's
XSRF protection stays on (the config and a real server), and uploads are capped on the
server (issue 11, item 5)."""

from __future__ import annotations

import ast
import re
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("engine", "ui", "views", "viz", "app.py")

# Calls that turn bytes or text into running code, wherever they are imported from.
NEVER = {"pickle.load", "pickle.loads", "pickle.Unpickler", "cPickle.load", "cPickle.loads",
         "dill.load", "dill.loads", "marshal.load", "marshal.loads", "shelve.open",
         "joblib.load", "pandas.read_pickle", "builtins.eval", "builtins.exec"}
# Calls that are safe only with this keyword set to this value.
ONLY_WITH = {"torch.load": ("weights_only", True), "numpy.load": ("allow_pickle", False)}
# The same, looked for inside string literals: the exported script's templates are code too.
TEXT_RULES = [
    (re.compile(r"\b(?:c?pickle|dill|marshal)\.loads?\("), "unpickles"),
    (re.compile(r"(?<![\w.])(?:eval|exec)\("), "runs text as code"),
    (re.compile(r"\btorch\.load\((?![^)]*weights_only\s*=\s*True)"),
     "torch.load without weights_only=True"),
    (re.compile(r"\b(?:np|numpy)\.load\((?![^)]*allow_pickle\s*=\s*False)"),
     "np.load without allow_pickle=False"),
]
# Reviewed exceptions, by file and the call's source text, with the reason.
ALLOWED = {
    ("engine/export/script.py", 'exec(compile(export.code, export.stem + ".py", "exec"), scope)'):
        "the export's own generated model code (node ids are identifiers by the spec's "
        "pattern, every value a repr), run once to check it against the engine's model",
}


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from the module's imports."""
    names = {"eval": "builtins.eval", "exec": "builtins.exec", "np": "numpy", "pd": "pandas"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else \
                    a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return names.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, names)
        return f"{base}.{node.attr}" if base else None
    return None


def unsafe_calls(source: str, path: str = "<text>") -> list[str]:
    """Every place in ``source`` that could run data as code, as "path:line: what"."""
    tree = ast.parse(source)
    names = _aliases(tree)
    found: list[str] = []

    def report(node: ast.AST, what: str) -> None:
        call = ast.get_source_segment(source, node) or ""
        if (path, call) not in ALLOWED:
            found.append(f"{path}:{node.lineno}: {what}: {call[:80]}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            for mod in mods:
                if mod.split(".")[0] in ("pickle", "cPickle", "dill", "marshal", "shelve"):
                    report(node, f"imports {mod}")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func, names)
            if name in NEVER:
                report(node, f"calls {name}")
            elif name in ONLY_WITH:
                key, value = ONLY_WITH[name]
                ok = any(k.arg == key and isinstance(k.value, ast.Constant)
                         and k.value.value is value for k in node.keywords)
                if not ok:
                    report(node, f"calls {name} without {key}={value}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for rule, what in TEXT_RULES:
                for m in rule.finditer(node.value):
                    line = node.lineno + node.value.count("\n", 0, m.start())
                    found.append(f"{path}:{line}: code in a string {what}: "
                                 f"{node.value[m.start():m.start() + 60]!r}")
    return found


def _project_files() -> list[Path]:
    out: list[Path] = []
    for part in SCANNED:
        p = ROOT / part
        out += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return out


def test_no_code_from_users_runs_anywhere_in_the_project() -> None:
    files = _project_files()
    assert len(files) > 100  # the scan sees the project, not an empty folder
    found = [line for f in files
             for line in unsafe_calls(f.read_text(encoding="utf-8"),
                                      f.relative_to(ROOT).as_posix())]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("bad", [
    "import pickle\npickle.loads(data)",
    "import pickle as p\np.load(f)",
    "from pickle import loads\nloads(data)",
    "import torch\ntorch.load(path)",
    "import torch\ntorch.load(path, weights_only=False)",
    "import torch\nstate = torch.load(\n    path,\n    map_location='cpu',\n)",
    "from torch import load\nload(path)",
    "import numpy as np\nnp.load(path)",
    "import numpy as np\nnp.load(path, allow_pickle=True)",
    "import numpy\nnumpy.load(path, mmap_mode='r')",
    "eval(text)",
    "exec(compile(text, 'x', 'exec'))",
    "import builtins\nbuiltins.eval(text)",
    "import pandas as pd\npd.read_pickle(path)",
    "import marshal\nmarshal.loads(b)",
    "SCRIPT = '''\ndata = np.load(DATA)\n'''",
    "SCRIPT = 'x = pickle.loads(blob)'",
    "SCRIPT = 'eval(line)'",
])
def test_the_scan_finds_a_bad_line(bad: str) -> None:
    assert unsafe_calls(bad), bad


@pytest.mark.parametrize("good", [
    "import torch\ntorch.load(path, weights_only=True, map_location='cpu')",
    "import numpy as np\nnp.load(path, allow_pickle=False)",
    "model.eval()",
    "model.train(False)",
    "x = evaluate(model)",
    "text = 'no pickle, no eval.'",
    "SCRIPT = 'data = np.load(DATA, allow_pickle=False)'",
    "from safetensors.torch import load\nload(blob)",
])
def test_the_scan_passes_safe_lines(good: str) -> None:
    assert unsafe_calls(good) == [], good


# XSRF ---------------------------------------------------------------------------------------

def _config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_the_config_keeps_xsrf_protection_on() -> None:
    server = _config().get("server", {})
    # Both stay at Streamlit's protective defaults (on); the real server is checked below.
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True


def _put(url: str, headers: dict[str, str]) -> int:
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n"
            b"Content-Type: text/csv\r\n\r\na,b\n1,2\n\r\n--b--\r\n")
    req = urllib.request.Request(url, data=body, method="PUT", headers={
        "Content-Type": "multipart/form-data; boundary=b", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.slow
def test_a_real_server_refuses_an_upload_without_the_xsrf_token() -> None:
    from tests.browser.conftest import start_server

    server = start_server()
    try:
        with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as r:
            cookie = next(v for k, v in r.headers.items() if k.lower() == "set-cookie"
                          and v.startswith("_streamlit_xsrf="))
        token = cookie.split(";", 1)[0].split("=", 1)[1]
        url = f"{server.url}/_stcore/upload_file/some-session/some-file"
        assert _put(url, {}) == 403  # no cookie, no token: a cross-site form's request
        assert _put(url, {"Cookie": f"_streamlit_xsrf={token}"}) == 403  # no header
        assert _put(url, {"Cookie": f"_streamlit_xsrf={token}",
                          "X-Xsrftoken": "2|00000000|" + "0" * 32 + "|1"}) == 403
        # With the pair the page itself sends, the request passes the XSRF check and is
        # only refused for naming no live session: the 403s above were the XSRF check.
        assert _put(url, {"Cookie": f"_streamlit_xsrf={token}", "X-Xsrftoken": token}) == 400
    finally:
        server.proc.kill()
        server.proc.wait(10)


# Caps ---------------------------------------------------------------------------------------

def test_uploads_are_capped_on_the_server_at_the_apps_largest_file() -> None:
    from streamlit import config

    from engine.data.image_folder import MAX_ZIP_BYTES

    server = _config().get("server", {})
    upload_mb = server.get("maxUploadSize", config.get_option("server.maxUploadSize"))
    message_mb = server.get("maxMessageSize", config.get_option("server.maxMessageSize"))
    # The server refuses any upload above this before the app sees it; the app's own
    # checks (zip, CSV, picture, text, experiment file) are tighter still.
    assert upload_mb * 2**20 <= MAX_ZIP_BYTES
    assert message_mb <= 200
