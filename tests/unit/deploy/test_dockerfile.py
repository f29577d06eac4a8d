"""The Dockerfile: multi-stage from the lock file, pinned base, non-root, health-checked."""

from __future__ import annotations

import re
import tomllib

from tests.unit.deploy.files import DOCKERFILE, ROOT, image_is_pinned


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def _args() -> dict[str, str]:
    return dict(a.split("=", 1) for i, a in _instructions() if i == "ARG" and "=" in a)


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_several_stages_from_a_pinned_python_311_slim_image():
    froms = [a for i, a in _instructions() if i == "FROM"]
    assert len(froms) >= 2
    args = _args()
    for line in froms:
        image = line.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert image_is_pinned(image), image
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", image), image
    assert [f.split()[-1] for f in froms] == ["builder", "runtime"]


def test_the_builder_installs_the_locked_dependencies_with_the_makefiles_uv():
    builder = " ".join(a for _, a in _stages()[0])
    assert "uv sync --frozen --no-dev" in builder
    assert "uv.lock" in builder
    make_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert _args()["UV_VERSION"] == make_uv


def test_the_runtime_stage_copies_the_venv_and_every_package_of_the_project():
    runtime = _stages()[-1]
    copies = [a for i, a in runtime if i == "COPY"]
    assert any(c.startswith("--from=builder") and "/app/.venv" in c for c in copies)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    for package in packages["packages"]:
        assert any(f" {package} " in f" {c} " for c in copies), f"{package}/ not copied into the image"
    assert not any(i == "RUN" and "pip install" in a for i, a in runtime), "nothing installed at runtime"


def test_it_runs_as_a_numeric_non_root_user():
    users = [a for i, a in _stages()[-1] if i == "USER"]
    assert users, "no USER in the runtime stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_the_healthcheck_hits_healthz_and_the_command_serves_the_chosen_service():
    runtime = dict((i, a) for i, a in _stages()[-1])
    assert "/healthz" in runtime["HEALTHCHECK"]
    assert "SERVICE" in _args() and "ENV" in runtime and "SERVICE=${SERVICE}" in runtime["ENV"]
    command = runtime["CMD"]
    assert "uvicorn" in command and "services.${SERVICE}.main:create_app" in command
    assert "--factory" in command and "--host 0.0.0.0" in command and "--port 8000" in command


def test_the_dockerignore_keeps_the_context_small_and_free_of_secrets():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".data", "tests", ".env"):
        assert entry in ignored, entry
    for needed in ("pyproject.toml", "uv.lock", "shared", "services", "devstack"):
        assert needed not in ignored, needed
