"""The CLI's one error handler: exit codes by who is at fault, one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from cockpit.cli_errors import as_failure
from cockpit.config import Settings
from cockpit.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    ToolError,
    ValidationFailed,
)
from cockpit.exitcodes import CliFailure, ExitCode
from tests.support.cli import cockpit_in_process
from tests.support.threaded import served_in_thread

ROOT = Path(__file__).resolve().parents[2]


def cockpit(
    tmp: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    base.update({"COCKPIT_DATA_DIR": str(tmp / "data"), "COCKPIT_EMBEDDINGS": "hashing"})
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=tmp,
        timeout=timeout,
    )


Runner = Callable[..., subprocess.CompletedProcess[str]]


def in_process(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The same command through typer's runner in this process (the error handler is the
    command group's, so the exit code and stderr are the child's): for the cases whose subject
    is how a failure is reported, not the process around it, which a child test per kind of
    failure keeps covering (a child pays ~1-5 CPU-s of imports first)."""
    return cockpit_in_process(
        tmp / "data", *args, env={"COCKPIT_EMBEDDINGS": "hashing", **(env or {})}
    )


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ValidationFailed("tools.0.name: unknown tool"), ExitCode.BAD_INPUT),
        (AuthError("invalid key"), ExitCode.AUTH),
        (PermissionDenied("merchants may not"), ExitCode.AUTH),
        (NotFound("no key 'x'"), ExitCode.BAD_INPUT),
        (ToolError("the tool broke"), ExitCode.FAILED),
        (CliFailure("gate failed", ExitCode.FAILED), ExitCode.FAILED),
        (CliFailure("refused", ExitCode.AUTH), ExitCode.AUTH),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (FileNotFoundError(2, "No such file or directory", "suite.yaml"), ExitCode.BAD_INPUT),
        (ConnectionRefusedError(111, "Connection refused"), ExitCode.UNREACHABLE),
        (RuntimeError("boom"), ExitCode.FAILED),
    ],
)
def test_exceptions_map_by_who_is_at_fault(exc: BaseException, code: ExitCode) -> None:
    failure = as_failure(exc)
    assert failure.code is code
    assert "\n" not in failure.message


def test_unexpected_errors_say_how_to_see_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKPIT_DEBUG", raising=False)
    assert "--debug" in as_failure(RuntimeError("boom")).message


def test_http_answers_distinguish_a_refused_key_from_a_down_server() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:9/v1/me")
    refused = httpx.HTTPStatusError(
        "401", request=request, response=httpx.Response(401, request=request)
    )
    failed = httpx.HTTPStatusError(
        "503", request=request, response=httpx.Response(503, request=request)
    )
    down = httpx.ConnectError("connection refused", request=request)
    assert as_failure(refused).code is ExitCode.AUTH
    assert "refused the key" in as_failure(refused).message
    assert as_failure(failed).code is ExitCode.UNREACHABLE
    assert as_failure(down).code is ExitCode.UNREACHABLE
    assert "http://127.0.0.1:9/v1/me" in as_failure(down).message


def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_PORT", "eighty")
    with pytest.raises(ValidationError) as caught:
        Settings()
    failure = as_failure(caught.value)
    assert failure.code is ExitCode.BAD_INPUT
    assert failure.message.startswith("COCKPIT_PORT: ") and "eighty" in failure.message


def test_command_failures_are_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    bad = cockpit(tmp_path, "keys", "list", env={"COCKPIT_AGENTS_PATH": '["unclosed'})
    assert bad.returncode == ExitCode.BAD_INPUT
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("error: COCKPIT_AGENTS_PATH: ") and "JSON list" in bad.stderr
    debug = in_process(
        tmp_path, "keys", "list", env={"COCKPIT_AGENTS_PATH": '["unclosed', "COCKPIT_DEBUG": "1"}
    )
    assert debug.returncode == ExitCode.BAD_INPUT and "Traceback" in debug.stderr
    flag = in_process(tmp_path, "--debug", "keys", "revoke", "nosuchkey")
    assert flag.returncode == ExitCode.BAD_INPUT and "Traceback" in flag.stderr
    quiet = cockpit(tmp_path, "keys", "revoke", "nosuchkey")
    assert quiet.returncode == ExitCode.BAD_INPUT and "Traceback" not in quiet.stderr
    assert "nosuchkey" in quiet.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cockpit(tmp_path, "no-such-command").returncode == ExitCode.USAGE
    wrong_role = in_process(tmp_path, "keys", "create", "--tenant", "t", "--role", "god")
    assert wrong_role.returncode == ExitCode.USAGE and "merchant" in wrong_role.stderr


def test_chat_says_it_cannot_reach_the_url(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"  # the discard port: nothing listens
    out = cockpit(tmp_path, "chat", "--url", url, "--key", "ck_x_y", "-m", "hello")
    assert out.returncode == ExitCode.UNREACHABLE, (out.stdout, out.stderr)
    assert "127.0.0.1:9" in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--url", "localhost:8000"], "--url must be an http:// or https:// address"),
        (["--url", "http://x:abc"], "is not a valid address: Invalid port"),
        (["--url", "http://127.0.0.1:9", "--approve", "maybe"], "--approve must be one of"),
    ],
)
def test_chat_refuses_bad_options_before_sending_anything(
    tmp_path: Path, args: list[str], says: str
) -> None:
    out = in_process(tmp_path, "chat", *args, "--key", "ck_x_y", "-m", "hello")
    assert out.returncode == ExitCode.USAGE, (out.stdout, out.stderr)
    assert says in out.stderr and "cannot reach" not in out.stderr


class _Refuses(BaseHTTPRequestHandler):
    """A server that refuses every key, as Cockpit does a revoked one."""

    def _refuse(self) -> None:
        body = b'{"type": "authentication_error", "code": "invalid_api_key", "message": "no"}'
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    with served_in_thread(server):
        yield f"http://127.0.0.1:{server.server_address[1]}"


def test_chat_says_the_key_was_refused_and_where_it_came_from(
    tmp_path: Path, refusing_server: str
) -> None:
    flag = in_process(tmp_path, "chat", "--url", refusing_server, "--key", "ck_bad", "-m", "hi")
    assert flag.returncode == ExitCode.AUTH, flag.stderr
    assert "refused" in flag.stderr and "--key" in flag.stderr
    assert "cannot reach" not in flag.stderr
    env = in_process(
        tmp_path, "chat", "--url", refusing_server, "-m", "hi", env={"COCKPIT_API_KEY": "ck_bad"}
    )
    assert env.returncode == ExitCode.AUTH and "COCKPIT_API_KEY" in env.stderr


SPEC = "id: typo-agent\nname: Typo\ndescription: A spec with a mistake.\ninstructions: hi\n"


@pytest.mark.parametrize(
    ("body", "field", "hint", "run"),
    [
        (
            SPEC + "model: local:planner\ntools: [{name: search_knowledg}]\n",
            "tools.0.name",
            "did you mean 'search_knowledge'",
            cockpit,  # the real `python -m cockpit serve`
        ),
        (
            SPEC + "model: local:planner\nhandoffs: [copilott]\n",
            "handoffs.0",
            "did you mean",
            in_process,
        ),
        (
            SPEC + "model: local:planner\ntools: [{name: search_knowledge\n",
            "",
            "not valid YAML",
            in_process,
        ),
    ],
    ids=["unknown-tool", "unknown-handoff", "yaml-error"],
)
def test_serve_reports_a_bad_spec_as_one_line_naming_file_and_field(
    tmp_path: Path, body: str, field: str, hint: str, run: Runner
) -> None:
    # (not "agents/": with ``python -m`` the cwd comes first on sys.path and would shadow ours)
    spec = tmp_path / "partner-agents" / "typo" / "agent.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(body)
    out = run(
        tmp_path,
        "serve",
        "--port",
        "9",
        env={"COCKPIT_AGENTS_PATH": str(spec.parents[1]), "COCKPIT_WARMUP": "false"},
    )
    assert out.returncode == ExitCode.BAD_INPUT, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert lines[0].startswith(f"error: {spec}: {field}")
    assert hint in lines[0]
    assert "serving on" not in out.stdout  # it stopped before the server started
