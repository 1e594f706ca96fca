"""The container files, checked as far as possible without a Docker engine: the Dockerfile's sources
exist and are not excluded, its commands parse, compose.yaml is valid and uses the settings the code
really reads, and the command the image runs starts a bot whose HEALTHCHECK passes."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tests.conftest import KNOWLEDGE, ROOT
from tests.fake_zalo import FakeZalo

pytestmark = pytest.mark.slow

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"
START_DEADLINE = 180.0


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "a continuation line runs off the end of the Dockerfile"
    out = []
    for line in lines:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def of(kind: str) -> list[str]:
    return [args for word, args in instructions() if word == kind]


def env_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for args in of("ENV"):
        for token in shlex.split(args):
            name, sep, value = token.partition("=")
            assert sep, f"ENV should use NAME=value form: {args}"
            values[name] = value
    return values


def exec_form(args: str) -> list[str]:
    argv = json.loads(args)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    return argv


def healthcheck_argv() -> list[str]:
    (args,) = of("HEALTHCHECK")
    options, _, command = args.partition("CMD ")
    assert re.search(r"--start-period=\d+s", options), "give the index time to load before checks count"
    return exec_form(command.strip())


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the repo) out of the build context."""
    result = False
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.replace("**/", "")) for p in prefixes):
            result = not negate
    return result


def names_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for source in (ROOT / "bot" / "config.py", ROOT / "indexer" / "settings.py"):
        names |= set(re.findall(r"(?:env\.get|_int|_float|_url)\(\s*(?:env,\s*)?\"([A-Z][A-Z0-9_]+)\"",
                                source.read_text(encoding="utf-8")))
    assert {"DATA_DIR", "CHROMA_URL", "WEBHOOK_PORT", "TELEGRAM_BOT_TOKEN"} <= names
    return names


# -- Dockerfile ----------------------------------------------------------------------------------


def test_base_image_user_port_and_command() -> None:
    assert of("FROM") == ["python:3.11-slim"]
    users = of("USER")
    assert users and users[-1] not in ("root", "0")
    assert any("useradd" in run for run in of("RUN"))
    # the non-root user is in place before the container's command runs
    order = [word for word, _ in instructions()]
    assert max(i for i, w in enumerate(order) if w == "USER") < order.index("CMD")
    assert of("EXPOSE") == ["8080"]
    env = env_values()
    assert env["WEBHOOK_HOST"] == "0.0.0.0"
    assert env["WEBHOOK_PORT"] == "8080"
    assert exec_form(of("CMD")[-1]) == ["python", "-m", "bot", "run"]


def test_dependencies_come_from_the_pinned_ranges_and_the_index_is_built() -> None:
    runs = of("RUN")
    assert any(re.search(r"\bpip install \.(\s|$)", r) for r in runs), "install the project itself: pip install ."
    assert not any(re.search(r"pip install (?!\.)\S", r) for r in runs), "no dependency outside pyproject.toml"
    build = [i for i, r in enumerate(runs) if "python -m indexer build" in r]
    install = [i for i, r in enumerate(runs) if "pip install ." in r]
    assert build and install and build[0] > install[0]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for dependency in project["dependencies"]:
        assert str(Requirement(dependency).specifier), f"{dependency} has no version range"


def test_every_copy_source_exists_and_reaches_the_build_context() -> None:
    copies = of("COPY")
    assert copies
    sources: list[str] = []
    for args in copies:
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        sources += parts[:-1]
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: not in the repository"
        assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    for needed in ("pyproject.toml", "bot", "indexer", "knowledge"):
        assert needed in sources
    # secrets and local state stay out of the image
    for private in (".env", ".venv", "data", ".git", "tests"):
        assert ignored(private), f"{private} should be in .dockerignore"
    # everything pip install . needs is copied before it runs
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"].get("readme")
    if readme:
        assert readme in sources


def test_healthcheck_command_parses() -> None:
    argv = healthcheck_argv()
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "<HEALTHCHECK>", "exec")
    assert "/healthz" in argv[2]
    assert "curl" not in " ".join(argv) and "wget" not in " ".join(argv)


def test_env_names_in_the_image_are_settings_the_code_reads() -> None:
    known = names_read_by_the_code()
    for name in env_values():
        if name.startswith(("PYTHON", "PIP_")):
            continue
        assert name in known, f"ENV {name} is not read by bot/config.py or indexer/settings.py"


# -- compose.yaml --------------------------------------------------------------------------------


def compose() -> dict:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_has_chroma_an_indexer_and_the_bot() -> None:
    data = compose()
    services = data["services"]
    assert {"chroma", "indexer", "bot"} <= set(services)

    chroma = services["chroma"]
    assert chroma["image"].startswith("chromadb/chroma")
    assert any(str(v).endswith(":/data") for v in chroma["volumes"])
    assert any(str(p).endswith("8000:8000") for p in chroma["ports"])
    volume = str(chroma["volumes"][0]).split(":")[0]
    assert volume in data["volumes"]

    bot = services["bot"]
    assert environment(bot)["CHROMA_URL"] == "http://chroma:8000"
    assert bot["env_file"] in (".env", [".env"])
    assert bot["restart"] in ("unless-stopped", "always", "on-failure")
    assert bot["depends_on"]["indexer"]["condition"] == "service_completed_successfully"
    assert "chroma" in bot["depends_on"]
    assert any(str(p).endswith(":8080") for p in bot["ports"])
    assert any(str(v).endswith(":/app/data") for v in bot["volumes"])

    indexer = services["indexer"]
    command = indexer["command"] if isinstance(indexer["command"], list) else shlex.split(indexer["command"])
    assert command[:3] == ["python", "-m", "indexer"] and command[3] in ("refresh", "build")
    assert environment(indexer)["CHROMA_URL"] == "http://chroma:8000"
    assert "chroma" in indexer["depends_on"]
    assert indexer.get("restart") in ("on-failure", "no", None)
    # the indexer and the bot are the same image
    assert bot.get("build") == indexer.get("build") == "."


def test_compose_env_names_are_settings_the_code_reads() -> None:
    known = names_read_by_the_code()
    for name, service in compose()["services"].items():
        if name == "chroma":
            continue
        for key in environment(service):
            assert key in known, f"{name}: {key} is not read by bot/config.py or indexer/settings.py"


# -- the image's command runs ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def readyz_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=4) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def healthcheck(env: dict[str, str]) -> int:
    argv = healthcheck_argv()
    return subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30).returncode


async def test_the_image_command_starts_and_passes_its_healthcheck(data_dir: Path, tmp_path: Path) -> None:
    fake = await FakeZalo().start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "PYTEST", "LLM_"))}
    env.pop("CHROMA_URL", None)
    env.update(env_values())  # the image's ENV, adapted to a test on loopback:
    env.update({"WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port), "DATA_DIR": str(data_dir),
                "KNOWLEDGE_DIR": str(KNOWLEDGE), "ZALO_OA_APP_ID": fake.app_id,
                "ZALO_OA_SECRET_KEY": fake.oa_secret_key, "ZALO_APP_SECRET": fake.app_secret,
                "ZALO_OA_ACCESS_TOKEN": fake.access_token, "ZALO_OA_REFRESH_TOKEN": fake.refresh_token,
                "ZALO_OA_API_BASE_URL": fake.base_url, "ZALO_OAUTH_BASE_URL": fake.base_url})
    argv = exec_form(of("CMD")[-1])
    assert argv[0] == "python"
    probe_env = {**env, "WEBHOOK_PORT": str(port)}
    assert healthcheck(probe_env) != 0  # nothing listens yet: the check can fail
    proc = await asyncio.create_subprocess_exec(sys.executable, *argv[1:], cwd=str(tmp_path), env=env,
                                                stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_DEADLINE
        healthy = False
        while loop.time() < deadline and proc.returncode is None:
            if await asyncio.to_thread(healthcheck, probe_env) == 0:
                healthy = True
                break
            await asyncio.sleep(0.5)
        assert healthy, "the HEALTHCHECK never passed"
        # healthy means alive (it answers during the warm-up too); ready means warmed up and serving
        ready = False
        while loop.time() < deadline and proc.returncode is None and not ready:
            ready = await asyncio.to_thread(readyz_ok, port)
            if not ready:
                await asyncio.sleep(0.25)
        assert ready, "/readyz never said 200"
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                output, _ = await asyncio.wait_for(proc.communicate(), 30)
            except TimeoutError:
                proc.kill()
                output, _ = await proc.communicate()
        else:
            output, _ = await proc.communicate()
        await fake.stop()
    assert proc.returncode == 0, output.decode(errors="replace")[-3000:]
    lines = [json.loads(line) for line in output.decode().splitlines() if line.strip()]  # LOG_FORMAT=json
    assert any(r["msg"] == "bot running" for r in lines)
    assert healthcheck(probe_env) != 0  # and fails again once the bot is gone
