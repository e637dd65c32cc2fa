"""Every app's OpenAPI schema, fuzzed by schemathesis as a client would fuzz it: the app served by
uvicorn on 127.0.0.1, each of its operations sent generated requests, valid and invalid, and
every answer checked against the schema. No 500; no status, content type or body the schema
does not declare. The budget is fixed, and the cases are the same on every run (derandomized).

What schemathesis cannot judge is configured, not ignored: the 5xx an app documents (a 502 for
an upstream that failed, a 503 for a database outage) are expected answers, not
server errors."""

import asyncio
import re
import socket
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.core.result import Err

from pytest_pages.runtime import new_server_loop
from tests.support.project import ROOT
from tests.support.project import load_snippet as load

EXAMPLES = 10  # generated cases per operation: valid ones, and invalid ones for any input

# The apps schemathesis does not fuzz, and why.
LEFT_OUT = {
    "async_endpoint_blocking": "holds its event loop for 2 real seconds a request, on purpose",
    "benchmark_app": "a measuring instrument: it calls a server only the benchmarks start",
    "changes_external_api": "the article's version, which the guide shows answering 500",
    "fetch_data_per_request": "the article's version, which the guide shows answering 500",
    "parallel_tasks_sequential": "the article's slow version, the same schema as parallel_tasks",
    "websockets_room": "a WebSocket endpoint only: OpenAPI describes no operation to fuzz",
}
# What an operation's schema cannot say, told to schemathesis, with the reason.
OPERATIONS = [
    {  # a file is any bytes: no upload can break the schema, so none is to be refused
        "include-method": "PUT",
        "include-path": "/files/{name}",
        "checks": {"negative_data_rejection": {"enabled": False}},
    },
]
POSTGRES_APPS = {"users_postgres"}  # fuzzed against the real server (tests/conftest.py)
APPS = sorted(
    path.stem
    for path in (ROOT / "snippets").glob("*.py")
    if "\napp = " in path.read_text(encoding="utf-8") and path.stem not in LEFT_OUT
)


@pytest.fixture(scope="module", autouse=True)
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hypothesis keeps caches in ./.hypothesis: a test run writes nothing into the repository.
    In a virtual environment, they are kept in it, from one run to the next: with no example
    database, they are only its Unicode tables (which characters each category and codec
    has), the same on every run of one Python, and 3 to 4 s of CPU to compute again."""
    in_venv = sys.prefix != sys.base_prefix
    home = Path(sys.prefix) / "hypothesis" if in_venv else tmp_path_factory.mktemp("hypothesis")
    set_hypothesis_home_dir(home)


@contextmanager
def served(app: FastAPI, *, real_clock: bool = False) -> Iterator[str]:
    """`app` under uvicorn on 127.0.0.1, in a thread of its own and on a virtual clock (an
    endpoint's sleeps take no time), while schemathesis calls it from this one. An app on a
    real PostgreSQL server runs on the real clock, as its page does (tests/support/pages.py)."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, lifespan="on", log_config=None, log_level="warning")
        server = uvicorn.Server(config)
        runner = asyncio.Runner(
            loop_factory=asyncio.new_event_loop if real_clock else new_server_loop
        )
        thread = threading.Thread(target=runner.run, args=(server.serve([listening]),))
        thread.start()
        try:
            while not server.started:
                assert thread.is_alive(), "uvicorn stopped before it started"
                thread.join(0.01)
            host, port = listening.getsockname()
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            thread.join()
            runner.close()


def documented_server_errors(schema: dict[str, Any]) -> list[str]:
    """Every 5xx status some operation of the schema declares."""
    return sorted(
        {
            status
            for path in schema["paths"].values()
            for operation in path.values()
            for status in operation.get("responses", {})
            if status.startswith("5")
        }
    )


def test_every_app_is_fuzzed_or_left_out_with_a_reason() -> None:
    assert len(APPS) >= 12
    assert not set(APPS) & set(LEFT_OUT)


@pytest.mark.parametrize("name", APPS)
def test_every_answer_matches_the_schema(
    name: str,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    respx_mock: respx.MockRouter,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.setenv("FILES_DIR", str(tmp_path / "files"))
    on_postgres = name in POSTGRES_APPS
    if on_postgres:  # its DATABASE_URL, in place of SQLite's
        request.getfixturevalue("postgres_url")
    respx_mock.route(host="127.0.0.1").pass_through()  # schemathesis' requests to the server
    respx_mock.get("https://nonexistent-api.com/data").respond(json={"data": [1, 2, 3]})
    app = load(name).app
    openapi = app.openapi()
    expected = ["2xx", "3xx", "4xx", *documented_server_errors(openapi)]
    config = schemathesis.Config.from_dict(
        {
            "checks": {"not_a_server_error": {"expected-statuses": expected}},
            "operations": OPERATIONS,
        }
    )
    schema = schemathesis.openapi.from_dict(openapi, config=config)

    with served(app, real_clock=on_postgres) as url:
        for operation in operations(schema):
            for mode in modes(operation):
                fuzz(operation, mode, url)


Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def operations(schema: schemathesis.BaseSchema) -> list[Operation]:
    """Every operation of the schema; one that schemathesis cannot read fails the test."""
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


def modes(operation: Operation) -> list[schemathesis.GenerationMode]:
    """Valid requests for every operation; invalid ones too, for one whose input can be invalid:
    a body, or a parameter more particular than any text at all."""
    particular = any(
        set(parameter.definition.get("schema", {})) - {"type", "title"}
        or parameter.definition.get("schema", {}).get("type") != "string"
        for parameter in operation.iter_parameters()
    )
    valid, invalid = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
    return [valid, invalid] if particular or operation.body.items else [valid]


def fuzz(operation: Operation, mode: schemathesis.GenerationMode, url: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same cases every run
        database=None,  # and nothing written into the repository
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, unshrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode))
    def answers_as_declared(case: schemathesis.Case[Operation]) -> None:
        case.call_and_validate(base_url=url)

    answers_as_declared()


def test_the_page_states_the_budget() -> None:
    page = (ROOT / "docs" / "client_input.md").read_text(encoding="utf-8")
    assert f"up to {EXAMPLES} valid requests, and\nup to {EXAMPLES} invalid ones" in page
    assert f"all {len(APPS)} apps" in page


def test_a_request_over_the_socket_reaches_the_served_app(respx_mock: respx.MockRouter) -> None:
    """The fuzzing above is only as good as its server: it must answer, and stop."""
    respx_mock.route(host="127.0.0.1").pass_through()
    with served(load("async_endpoint").app) as url:
        response = httpx.get(f"{url}/async-endpoint")
    assert response.json() == {"message": "This is an async response!"}


def test_the_pages_schemathesis_settings_are_ones_it_reads() -> None:
    """The settings the page shows for a reader's own `schemathesis.toml` take effect."""
    page = (ROOT / "docs" / "client_input.md").read_text(encoding="utf-8")
    [shown] = re.findall(r"^```toml\n(.*?)^```$", page, re.MULTILINE | re.DOTALL)
    config = schemathesis.Config.from_dict(tomllib.loads(shown))
    checks = config.projects.default.checks
    assert checks.not_a_server_error.expected_statuses == ["2xx", "3xx", "4xx", "502", "503", "504"]
