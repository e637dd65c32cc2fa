"""`make mutate`: break the guide on purpose, one fault at a time, and check that the
verification notices every one.

Each mutation changes one snippet, page or setting in a copy of the repository, then runs the
tests that cover it. A mutation is caught when those tests fail; the run prints a table and
`caught/total`, and fails unless every mutation was caught. Before any of it, the unchanged
copy runs everything `make repeat` runs (the suite, the browser test aside) and the browser
tests the mutations name, in a new random order, and must pass: a mutant's failure then means
its mutation, not the set-up, and the run is also the suite's second order (CI's repeat).
(Some mutations only, chosen by name or file: the unchanged copy runs just their tests.)
Mutants run two or more at a time (`--jobs`, MUTATE_JOBS; by default one for each CPU), each
in a copy of its own. The repository itself is never touched."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # scripts/ sits in the repository root


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # the file it changes, relative to the repository
    old: str  # text found exactly once in that file
    new: str
    tests: tuple[str, ...]  # what `make test` runs that covers it


# The browser test's pages, named one by one: all of them take minutes.
BROWSER = "tests/test_browser.py"
# The real-server slice's tests, named one by one: the whole file takes a while.
REAL_SERVER = "tests/test_real_server.py"
EVEN = "_even_when_the_commit_fails"
NOTHING = "_with_nothing_of_the_sql_sent"
TWICE = "_no_more_than_twice_the_cap"
ECHOES = "_that_echoes_nothing_it_cannot_encode"
BEFORE = "_is_refused_before_it_is_read"
PAGE = "_never_as_a_page"
REPEATS = "_whose_first_run_repeats_the_suite"

MUTATIONS = [
    Mutation(
        "every page's clock back at 0, where raw differences come out round",
        "src/pytest_pages/runtime.py",
        "start=CLOCK_START)",
        "start=0)",
        ("tests/test_harness.py::test_sleeps_take_exactly_their_time_on_the_virtual_clock",),
    ),
    Mutation(
        "a loop-time difference compared unrounded",
        "docs/overview.md",
        "assert round(loop.time() - started) == 3",
        "assert loop.time() - started == 3.0",
        ("docs/overview.md",),
    ),
    Mutation(
        "tests that never run the app's lifespan",
        "snippets/testing.py",
        "    async with LifespanManager(\n"
        "        app, startup_timeout=None, shutdown_timeout=None\n"
        "    ) as manager:  # start-up has run here\n"
        "        transport = httpx.ASGITransport(app=manager.app)  # hands on state\n",
        "    if LifespanManager:  # no start-up, no shutdown\n"
        "        transport = httpx.ASGITransport(app=app)\n",
        ("docs/testing.md",),
    ),
    Mutation(
        "tests that run the lifespan but hand its state to no request",
        "snippets/testing.py",
        "httpx.ASGITransport(app=manager.app)",
        "httpx.ASGITransport(app=app)",
        ("docs/testing.md",),
    ),
    Mutation(
        "a test's client override left in place for the next test",
        "snippets/test_endpoints.py",
        "        del overrides[fetch_data.http_client]\n",
        "",
        ("docs/testing.md",),
    ),
    Mutation(
        "a test's database override left in place for the next test",
        "snippets/test_endpoints.py",
        "    del overrides[users_sqlalchemy.get_session]\n",
        "",
        ("docs/testing.md",),
    ),
    Mutation(
        "a returned value",
        "snippets/async_endpoint.py",
        '"This is an async response!"',
        '"This is an async reply!"',
        ("docs/async_endpoint.md",),
    ),
    Mutation(
        "a status code: a timeout answered 502, not 504",
        "snippets/upstream_errors.py",
        "raise HTTPException(504, detail) from error",
        "raise HTTPException(502, detail) from error",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "a sleep duration",
        "snippets/parallel_tasks.py",
        "await asyncio.sleep(3)",
        "await asyncio.sleep(4)",
        ("docs/parallel_tasks.md",),
    ),
    Mutation(
        "a deadline",
        "snippets/timeouts.py",
        "DEADLINE = 2.0",
        "DEADLINE = 3.0",
        ("docs/timeouts.md",),
    ),
    Mutation(
        "a concurrency limit",
        "snippets/fan_out.py",
        "UPSTREAM_LIMIT = 5",
        "UPSTREAM_LIMIT = 6",
        ("docs/fan_out.md",),
    ),
    Mutation(
        "a shown response",
        "docs/users.md",
        '  "email": "Shanna@melissa.tv"\n}\n```',
        '  "email": "shanna@melissa.tv"\n}\n```',
        ("docs/users.md",),
    ),
    Mutation(
        "a shown status line",
        "docs/upstream_errors.md",
        "HTTP/1.1 502 Bad Gateway\ncontent-type: application/json\n\n"
        '{"detail": "The upstream answered 500."}',
        "HTTP/1.1 503 Service Unavailable\ncontent-type: application/json\n\n"
        '{"detail": "The upstream answered 500."}',
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "a removed include",
        "docs/fetch_data.md",
        '```python title="snippets/fetch_data.py" hl_lines="21 22 23 24 25 26"\n'
        '--8<-- "fetch_data.py"\n```\n',
        "",
        ("docs/fetch_data.md", "tests/test_guards.py"),
    ),
    Mutation(
        "an include of a section that does not exist",
        "docs/users.md",
        '--8<-- "users_sqlalchemy.py:unavailable"',
        '--8<-- "users_sqlalchemy.py:unavailble"',
        ("docs/users.md", "tests/test_guards.py"),
    ),
    Mutation(
        "a skipped block without a reason",
        "docs/async_endpoint.md",
        '<!-- skip: next "serves until you stop it with Ctrl+C" -->',
        "<!-- skip: next -->",
        ("docs/async_endpoint.md",),
    ),
    Mutation(
        "a Python block the runner would not see",
        "docs/parallel_tasks.md",
        "```python\nasync def every_outcome()",
        "```py\nasync def every_outcome()",
        ("docs/parallel_tasks.md", "tests/test_guards.py"),
    ),
    Mutation(
        "a lifespan forgotten",
        "snippets/fetch_data.py",
        "app = FastAPI(lifespan=lifespan)",
        "app = FastAPI()",
        ("docs/fetch_data.md",),
    ),
    Mutation(
        "the upstream's words passed on",
        "snippets/upstream_errors.py",
        'detail = f"The upstream answered {code}."',
        'detail = f"The upstream answered {code}: {response.headers}."',
        ("tests/test_faults.py",),
    ),
    Mutation(
        "no cap on the body",
        "snippets/upstream_errors.py",
        "MAX_BODY = 1_048_576",
        "MAX_BODY = 8 * 1_048_576",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "no 503 for an unavailable database",
        "snippets/users_db.py",
        "app.add_exception_handler(sqlite3.OperationalError, database_unavailable)\n",
        "",
        ("tests/test_faults.py::test_an_unavailable_database_is_a_clear_503",),
    ),
    Mutation(
        "no 503 for an unavailable database, with SQLAlchemy",
        "snippets/users_sqlalchemy.py",
        "app.add_exception_handler(OperationalError, database_unavailable)\n",
        "",
        ("tests/test_faults.py::test_an_unavailable_database_is_a_clear_503",),
    ),
    Mutation(
        "objects expired at commit, then read with no await",
        "snippets/users_sqlalchemy.py",
        "async_sessionmaker(engine, expire_on_commit=False)",
        "async_sessionmaker(engine)",
        ("docs/users.md",),
    ),
    Mutation(
        "a relationship read without loading it",
        "snippets/users_sqlalchemy.py",
        "row = await session.get(UserRow, user_id, options=options)",
        "row = await session.get(UserRow, user_id)",
        ("docs/users.md",),
    ),
    Mutation(
        "a relationship that loads lazily instead of raising",
        "snippets/users_sqlalchemy.py",
        '        lazy="raise",  # read only what the query loaded, or raise\n',
        "",
        ("docs/users.md",),
    ),
    Mutation(
        "ids too large for SQLite let through",
        "snippets/users_sqlalchemy.py",
        "Path(gt=0, le=2**63 - 1)",
        "Path(gt=0)",
        ("docs/users.md", "tests/test_faults.py"),
    ),
    Mutation(
        "a request that waits 30 seconds for a connection of a full pool",
        "snippets/users_sqlalchemy.py",
        "        pool_timeout=POOL_TIMEOUT,  # SQLAlchemy's default: 30 seconds\n",
        "",
        ("docs/users.md",),
    ),
    Mutation(
        "a full connection pool answered with a bare 500",
        "snippets/users_sqlalchemy.py",
        "app.add_exception_handler(PoolTimeoutError, database_unavailable)\n",
        "",
        ("docs/users.md",),
    ),
    Mutation(
        "lifespan state from a plain def dependency, in the thread pool",
        "snippets/dependencies.py",
        "async def lifespan_state(",
        "def lifespan_state(",
        ("docs/dependencies.md",),
    ),
    Mutation(
        "the guide's test helper with asgi-lifespan's limits, on looptime",
        "snippets/testing.py",
        "        app, startup_timeout=None, shutdown_timeout=None\n",
        "        app\n",
        ("docs/testing.md",),
    ),
    Mutation(
        "the readers' test helper with asgi-lifespan's limits turned off",
        "snippets/test_endpoints.py",
        "LifespanManager(app) as manager:",
        "LifespanManager(app, startup_timeout=None, shutdown_timeout=None) as manager:",
        ("docs/testing.md",),
    ),
    Mutation(
        "a claim in a table the code does not keep",
        "docs/upstream_errors.md",
        "| does not connect or answer in time, or answers 408 | 504 Gateway Timeout (",
        "| does not connect or answer in time, or answers 408 | 503 Service Unavailable (",
        ("tests/test_faults.py",),
    ),
    Mutation(
        "a broken link",
        "docs/index.md",
        "[Async endpoints](async_endpoint.md)**",
        "[Async endpoints](async_endpoints.md)**",
        ("tests/test_site.py",),
    ),
    Mutation(
        "a commit after the response is sent",
        "snippets/dependencies.py",
        'Depends(transaction, scope="function")',
        "Depends(transaction)",
        ("docs/dependencies.md", f"{REAL_SERVER}::test_a_rename_answered_200_is_stored{EVEN}"),
    ),
    Mutation(
        "an upload read whole before its size is checked",
        "snippets/files.py",
        "app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY)\n",
        "",
        ("docs/files.md", f"{REAL_SERVER}::test_an_oversized_upload_is_refused_before_it_is_read"),
    ),
    Mutation(
        "one partial file shared by uploads of one name",
        "snippets/files.py",
        'partial = folder() / f".{name}.{uuid.uuid4().hex}"',
        'partial = folder() / f".{name}.partial"',
        (
            "docs/files.md",
            f"{REAL_SERVER}::test_uploads_of_one_name_at_once_never_mix_and_never_fail",
        ),
    ),
    Mutation(
        "a bug in SQL passed off as an outage",
        "snippets/users_sqlalchemy.py",
        "    if not is_an_outage(error):\n        raise error\n",
        "",
        ("docs/users.md", f"{REAL_SERVER}::test_a_bug_in_sql_or_schema_is_a_500_logged{NOTHING}"),
    ),
    Mutation(
        "an upstream body counted after httpx unzipped it",
        "snippets/upstream_errors.py",
        "async for chunk in response.aiter_raw():",
        "async for chunk in response.aiter_bytes():",
        ("docs/upstream_errors.md", f"{REAL_SERVER}::test_a_compressed_bomb_costs{TWICE}"),
    ),
    Mutation(
        "input that is not text echoed as it is",
        "snippets/client_input.py",
        "errors = jsonable_encoder(error.errors(), custom_encoder=as_text)\n"
        "    return JSONResponse(\n"
        '        {"detail": printable(errors)},',
        "errors = jsonable_encoder(error.errors())\n"
        "    return JSONResponse(\n"
        '        {"detail": errors},',
        ("docs/client_input.md", f"{REAL_SERVER}::test_invalid_text_in_json_is_a_422{ECHOES}"),
    ),
    Mutation(
        "a JSON body held whole, whatever its size",
        "snippets/background.py",
        "app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_JSON_BODY)",
        "",
        ("docs/client_input.md", f"{REAL_SERVER}::test_a_json_body_over_the_limit{BEFORE}"),
    ),
    Mutation(
        "a welcome email sent before the response, not after",
        "snippets/background.py",
        "background.add_task(send_welcome_email, signup.email)",
        "await send_welcome_email(signup.email)",
        ("docs/background.md",),
    ),
    Mutation(
        "a created task held by nothing but the event loop's weak reference",
        "snippets/background_create_task.py",
        "    tasks.add(task)  # the event loop itself holds tasks only weakly\n",
        "",
        ("docs/background.md",),
    ),
    Mutation(
        "a finished task kept in the set for ever",
        "snippets/background_create_task.py",
        "    task.add_done_callback(tasks.discard)\n",
        "",
        ("docs/background.md",),
    ),
    Mutation(
        "a created task's failure left for the garbage collector to report",
        "snippets/background_create_task.py",
        "    task.add_done_callback(log_failure)\n",
        "",
        ("docs/background.md",),
    ),
    Mutation(
        "created tasks left running when the app stops",
        "snippets/background_create_task.py",
        "    if tasks:\n",
        "    if not tasks:\n",
        ("docs/background.md",),
    ),
    Mutation(
        "a worker that dies with the first email that fails",
        "snippets/background_worker.py",
        'logger.exception("welcome email to %s failed", address)',
        "raise",
        ("docs/background.md",),
    ),
    Mutation(
        "queued emails dropped at shutdown, not sent",
        "snippets/background_worker.py",
        "                await emails.join()\n",
        "                pass\n",
        ("docs/background.md",),
    ),
    Mutation(
        "a queue of emails without a bound",
        "snippets/background_worker.py",
        "asyncio.Queue(maxsize=QUEUE_SIZE)",
        "asyncio.Queue()",
        ("docs/background.md",),
    ),
    Mutation(
        "a worker that waits for ever on a mail call that hangs",
        "snippets/background_worker.py",
        "            async with asyncio.timeout(SEND_TIMEOUT):  # a hung call ends\n"
        "                await send_welcome_email(address)\n",
        "            await send_welcome_email(address)\n",
        ("docs/background.md",),
    ),
    Mutation(
        "a drain that, after uvicorn's own wait, outlasts the grace period",
        "snippets/background_worker.py",
        "DRAIN_SECONDS = 10",
        "DRAIN_SECONDS = 20",
        ("docs/background.md",),
    ),
    Mutation(
        "created tasks given more time at shutdown than the grace period holds",
        "snippets/background_create_task.py",
        "STOP_WAIT = 10",
        "STOP_WAIT = 20",
        ("docs/background.md",),
    ),
    Mutation(
        "a status an endpoint answers, left out of its schema",
        "snippets/external_api.py",
        '@app.get("/external-api", responses=UPSTREAM_FAILED)',
        '@app.get("/external-api")',
        ("tests/test_faults.py",),
    ),
    Mutation(
        "a streaming claim proven only in-process",
        "docs/streaming.md",
        "    async with (\n        local_server(app) as url,\n"
        "        httpx.AsyncClient(base_url=url) as client,\n    ):\n        seen",
        "    async with app_client(app) as client:\n        seen",
        ("docs/streaming.md",),
    ),
    Mutation(
        "a chart that is not what the recorded data draws",
        "docs/benchmarks/results.json",
        '"wall_seconds": 0.536,',
        '"wall_seconds": 5.36,',
        ("tests/test_benchmarks.py::test_the_chart_is_drawn_from_the_published_results",),
    ),
    Mutation(
        "a chart declared at a size it does not have",
        "docs/benchmarks.md",
        'results-dark.svg#only-dark){ width="480" height="518" }',
        'results-dark.svg#only-dark){ width="480" height="480" }',
        ("tests/test_benchmarks.py::test_the_page_shows_each_chart_at_its_own_size",),
    ),
    Mutation(
        "a semaphore per request, not one for the whole app",
        "snippets/fan_out.py",
        "    async def title(post_id: int) -> str:\n",
        "    limit = asyncio.Semaphore(UPSTREAM_LIMIT)\n\n"
        "    async def title(post_id: int) -> str:\n",
        ("docs/fan_out.md",),
    ),
    Mutation(
        "a task's failure not unpacked by except*: a 500, not a 502",
        "snippets/parallel_tasks_failure.py",
        "    except* TaskFailed as failed:",
        "    except* LookupError as failed:",
        ("docs/parallel_tasks.md",),
    ),
    Mutation(
        "a task's own error text sent to the client",
        "snippets/parallel_tasks_failure.py",
        'detail = "A task this answer needs failed."',
        "detail = str(failed.exceptions[0])",
        ("docs/parallel_tasks.md",),
    ),
    Mutation(
        "gather's results tested against Exception: a cancelled task passed over",
        "docs/parallel_tasks.md",
        "        if isinstance(result, BaseException):",
        "        if isinstance(result, Exception):",
        ("docs/parallel_tasks.md",),
    ),
    Mutation(
        "a wait for a permit without a bound",
        "snippets/fan_out.py",
        "async with asyncio.timeout(PERMIT_WAIT):",
        "async with asyncio.timeout(None):",
        ("docs/fan_out.md",),
    ),
    Mutation(
        "a permit not given back when a call fails",
        "snippets/fan_out.py",
        "    try:\n        yield\n    finally:\n        limit.release()\n",
        "    yield\n    limit.release()\n",
        ("docs/fan_out.md",),
    ),
    Mutation(
        "work carried on for a client that has gone",
        "snippets/timeouts_disconnect.py",
        "watcher = group.create_task(disconnect(request))",
        "watcher = group.create_task(asyncio.sleep(0))",
        ("docs/timeouts.md",),
    ),
    Mutation(
        "the work's own 404 turned into a 500 by the task group",
        "snippets/timeouts_disconnect.py",
        "    except* Exception as failed:  # the work's own error: raised as it "
        "was\n        raise failed.exceptions[0] from None\n",
        "",
        ("docs/timeouts.md",),
    ),
    Mutation(
        "an abandoned upload logged as the server's error",
        "snippets/streaming.py",
        "@app.exception_handler(ClientDisconnect)\n",
        "",
        (f"{REAL_SERVER}::test_a_body_sent_slowly_and_abandoned_leaves_nothing_behind",),
    ),
    Mutation(
        "an uploaded page served as a page",
        "snippets/files.py",
        "return FileResponse(path, media_type=BYTES, filename=name, headers=nosniff)",
        "return FileResponse(path)",
        ("docs/files.md", f"{REAL_SERVER}::test_an_uploaded_file_is_served_as_a_download{PAGE}"),
    ),
    Mutation(
        "invalid text in a JSON key echoed as it is",
        "snippets/client_input.py",
        "return {printable(key): printable(item) for key, item in value.items()}",
        "return {key: printable(item) for key, item in value.items()}",
        (f"{REAL_SERVER}::test_invalid_text_in_json_is_a_422{ECHOES}",),
    ),
    Mutation(
        "gzip cut short, or followed by more, accepted",
        "snippets/upstream_errors.py",
        '            if encoding == "gzip" and (not gunzip.eof or gunzip.unused_data):',
        "            if False:",
        ("tests/test_faults.py",),
    ),
    Mutation(
        "our own full pool blamed on the upstream, a 504",
        "snippets/upstream_errors.py",
        "    except httpx.PoolTimeout as error:",
        "    except () as error:",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "an upstream 4xx our request caused blamed on the upstream, a 502",
        "snippets/upstream_errors.py",
        "    if response.is_client_error:  # we asked it wrongly",
        "    if False:",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "a lookup's 404 not passed on as a 404",
        "snippets/upstream_errors.py",
        "    if code == 404 and not_found is not None:",
        "    if False:",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "an upstream's Retry-After dropped",
        "snippets/upstream_errors.py",
        "    if code in (429, 503) and (seconds := retry_after(response)) is not None:",
        "    if False:",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "a Retry-After given as an HTTP date not read",
        "snippets/upstream_errors.py",
        "        when = parsedate_to_datetime(value)  # the other form: an HTTP date",
        "        return None",
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "a connection that failed not retried",
        "snippets/upstream_errors.py",
        "        return True  # no connection, so nothing was sent: send it again",
        "        return False",
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "a call retried after it was sent",
        "snippets/upstream_errors.py",
        "    return False  # after a response began, or our own pool was full",
        "    return True",
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "an upstream's Retry-After waited out however long",
        "snippets/upstream_errors.py",
        "if isinstance(error, UpstreamBusy) and error.seconds <= LONGEST_WAIT:",
        "if isinstance(error, UpstreamBusy):",
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "a shared client that keeps only 10 of its 50 connections alive",
        "snippets/fetch_data.py",
        "max_keepalive_connections=50)",
        "max_keepalive_connections=10)",
        ("docs/fetch_data.md",),
    ),
    Mutation(
        "an upstream's Retry-After waited out to the second, callers in step",
        "snippets/upstream_errors.py",
        "        return error.seconds + random.uniform(0, 0.1)",
        "        return float(error.seconds)",
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "a 429 without Retry-After called a broken answer, a 502",
        "snippets/upstream_errors.py",
        "        raise HTTPException(503, detail)\n    if code == 408:",
        "        raise HTTPException(502, detail)\n    if code == 408:",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "an upstream's 408 blamed on this app, a 500",
        "snippets/upstream_errors.py",
        "    if code == 408:  # it gave up waiting for our request: a timeout",
        "    if False:",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "a lookup's 404 not logged",
        "snippets/upstream_errors.py",
        '        logger.info("GET %s answered 404", url)\n',
        "",
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "a request this app could not send blamed on the upstream, a 502",
        "snippets/upstream_errors.py",
        "    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as error:",
        "    except () as error:",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "a wait for a free connection as long as the deadline",
        "snippets/fetch_data.py",
        "timeout = httpx.Timeout(10.0, connect=3.0, pool=2.0)",
        "timeout = httpx.Timeout(10.0, connect=3.0)",
        ("docs/fetch_data.md", "docs/upstream_errors.md"),
    ),
    Mutation(
        "exchanges checked in-process only",
        "src/pytest_pages/exchanges.py",
        "        OVER_A_SOCKET: page.server_runner.run("
        "send_over_a_socket(app, exchange.request)),\n",
        "",
        ("tests/test_harness.py",),
    ),
    Mutation(
        "an app that raises after its response, passed",
        "src/pytest_pages/exchanges.py",
        'may_raise = STATUS_LINE.fullmatch(exchange.response.first_line)["status"] == "500"',
        "may_raise = True",
        ("tests/test_harness.py",),
    ),
    Mutation(
        "a blocking sleep of one second, not two",
        "snippets/async_endpoint_blocking.py",
        "time.sleep(2)  # noqa: ASYNC251",
        "time.sleep(1)  # noqa: ASYNC251",
        ("docs/async_endpoint.md",),
    ),
    Mutation(
        "pure-Python work that lets go of the GIL",
        "snippets/blocking_work.py",
        "    total = sum(text.encode())\n",
        '    total = sum(text.encode())\n    __import__("time").sleep(0.2)  # lets go of the GIL\n',
        ("docs/blocking.md",),
    ),
    Mutation(
        "a process pool swapped for the loop's threads",
        "docs/blocking.md",
        "value = await loop.run_in_executor(processes, checksum, text)",
        "value = await loop.run_in_executor(None, checksum, text)",
        ("docs/blocking.md",),
    ),
    Mutation(
        "a process pool that starts its workers on the first requests",
        "docs/blocking.md",
        "    await asyncio.gather(  # two jobs at once: both workers start now\n"
        "        *(loop.run_in_executor(processes, int) for _ in range(2))\n"
        "    )\n",
        "",
        ("docs/blocking.md",),
    ),
    Mutation(
        "a process pool shut down on the loop's thread",
        "docs/blocking.md",
        "await to_thread.run_sync(processes.shutdown)",
        "processes.shutdown()",
        ("docs/blocking.md",),
    ),
    Mutation(
        "the thread limit left at 40",
        "snippets/blocking_thread_limit.py",
        "limiter.total_tokens = 100",
        "limiter.total_tokens = 40",
        ("docs/blocking.md",),
    ),
    Mutation(
        "debug mode left to PYTHONASYNCIODEBUG, which uvicorn turns off",
        "snippets/blocking_debug.py",
        "        loop.set_debug(True)\n",
        "",
        ("docs/blocking.md",),
    ),
    # The site in a browser (issue 13): each fix, undone, is seen on one page.
    Mutation(
        "the header asking GitHub's API for the repository's stars",
        "overrides/partials/source.html",
        'class="md-source">',
        'class="md-source" data-md-component="source">',
        (f"{BROWSER}::test_every_page_renders_without_errors[index.md]",),
    ),
    Mutation(
        "Mermaid left for Material to fetch from a CDN",
        "mkdocs.yml",
        "  - javascripts/mermaid.min.js\n",
        "",
        (f"{BROWSER}::test_every_diagram_is_drawn_and_legible[overview.md]",),
    ),
    Mutation(
        "Material's light code colours, under 4.5:1",
        "docs/stylesheets/extra.css",
        '[data-md-color-scheme="default"] {',
        '[data-md-color-scheme="none"] {',
        (f"{BROWSER}::test_every_page_is_accessible[async_endpoint.md]",),
    ),
    Mutation(
        "links told from the words around them by colour alone",
        "docs/stylesheets/extra.css",
        "  text-decoration: underline;\n",
        "  text-decoration: none;\n",
        (f"{BROWSER}::test_every_page_is_accessible[index.md]",),
    ),
    Mutation(
        "a search dialog with no name",
        "docs/javascripts/extra.js",
        'dialog.setAttribute("aria-label", "Search");',
        'dialog.removeAttribute("aria-label");',
        (f"{BROWSER}::test_every_page_is_accessible[index.md]",),
    ),
    Mutation(
        "Gantt charts in Mermaid's own light colours",
        "docs/javascripts/extra.js",
        'themed.themeCSS = (themed.themeCSS || "") + GANTT_CSS;',
        'themed.themeCSS = themed.themeCSS || "";',
        (f"{BROWSER}::test_every_diagram_is_drawn_and_legible[async_endpoint.md]",),
    ),
    Mutation(
        "the blocking line's comment cut off by the code box",
        "snippets/async_endpoint_blocking.py",
        "    # Blocks the loop for two seconds: no other request runs meanwhile.\n"
        "    time.sleep(2)  # noqa: ASYNC251\n",
        "    time.sleep(2)  # noqa: ASYNC251  # blocks the loop for two seconds: no other"
        " request runs meanwhile\n",
        (f"{BROWSER}::test_every_code_block_fits_its_box[async_endpoint.md]",),
    ),
    Mutation(
        "a page with the site's description, not its own",
        "docs/overview.md",
        "---\ndescription: >-\n",
        "---\nsummary: >-\n",
        ("tests/test_site.py::test_every_page_has_its_own_description",),
    ),
    Mutation(
        "the 404 page titled as any other page",
        "overrides/404.html",
        "<title>Page not found - {{ config.site_name }}</title>",
        "<title>{{ config.site_name }}</title>",
        ("tests/test_site.py::test_an_unknown_address_gets_the_guides_404_page",),
    ),
    Mutation(
        "the request id never reset: it outlives its request",
        "snippets/middleware.py",
        "            request_id.reset(token)  # the next request starts without it\n",
        "            pass  # the next request starts with it\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "the client's request id echoed and logged unchecked",
        "snippets/middleware.py",
        "    if given is not None and ACCEPTED.fullmatch(given):\n",
        "    if given is not None:\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "a request id of any length accepted",
        "snippets/middleware.py",
        'ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,64}")',
        'ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,}")',
        ("docs/middleware.md",),
    ),
    Mutation(
        "the response sent without its X-Request-ID header",
        "snippets/middleware.py",
        "                MutableHeaders(scope=message)[HEADER] = current\n",
        "                MutableHeaders(scope=message)\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "blocking work handed to run_in_executor, which loses the request id",
        "snippets/middleware.py",
        "    body = await asyncio.to_thread(render, rows)\n",
        "    body = await asyncio.get_running_loop().run_in_executor(\n"
        "        None, render, rows\n"
        "    )\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "the filter stamps no request's id",
        "snippets/middleware.py",
        "        record.request_id = request_id.get()\n",
        "        record.request_id = NO_REQUEST\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "one global request id for all requests instead of a ContextVar",
        "snippets/middleware.py",
        'request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)\n',
        "class OneForAll:  # what every request sees: the last one set\n"
        "    value = NO_REQUEST\n"
        "\n"
        "    def get(self) -> str:\n"
        "        return self.value\n"
        "\n"
        "    def set(self, value: str) -> str:\n"
        "        token, self.value = self.value, value\n"
        "        return token\n"
        "\n"
        "    def reset(self, token: str) -> None:\n"
        "        self.value = token\n"
        "\n"
        "\n"
        "request_id = OneForAll()\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "the BaseHTTPMiddleware version sends no X-Request-ID",
        "snippets/middleware.py",
        "        response.headers[HEADER] = current\n",
        "        response.headers.get(HEADER)\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "websockets let through the request-id middleware",
        "snippets/middleware.py",
        'if scope["type"] != "http":  # lifespan, websockets: passed through',
        'if scope["type"] == "lifespan":  # websockets let in',
        ("docs/middleware.md",),
    ),
    Mutation(
        "the BaseHTTPMiddleware version never resets the request id",
        "snippets/middleware.py",
        "            request_id.reset(token)\n        response.headers",
        "            pass\n        response.headers",
        ("docs/middleware.md",),
    ),
    Mutation(
        "run_in_threadpool's work handed to run_in_executor instead",
        "snippets/middleware.py",
        "    sha256 = await run_in_threadpool(digest, body)\n",
        "    sha256 = await asyncio.get_running_loop().run_in_executor(\n"
        "        None, digest, body\n"
        "    )\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "a request id checked with $, which lets a trailing line break in",
        "snippets/middleware.py",
        "    if given is not None and ACCEPTED.fullmatch(given):\n",
        '    if given is not None and re.match(r"[A-Za-z0-9._-]{1,64}$", given):\n',
        ("docs/middleware.md",),
    ),
    Mutation(
        "an unhandled error not logged by the request-id middleware",
        "snippets/middleware.py",
        '            errors.exception("unhandled error")\n',
        "            pass\n",
        ("docs/middleware.md",),
    ),
    Mutation(
        "a response start without headers not given a list first",
        "snippets/middleware.py",
        '                message.setdefault("headers", [])  # ASGI lets it be left out\n',
        "",
        ("docs/middleware.md",),
    ),
    Mutation(
        "LOGGING leaves the root logger at WARNING",
        "snippets/middleware.py",
        '"root": {"level": "INFO", "handlers": ["stamped"]},',
        '"root": {"level": "WARNING", "handlers": ["stamped"]},',
        ("docs/middleware.md",),
    ),
    Mutation(
        "LOGGING's handler without the request-id filter",
        "snippets/middleware.py",
        '            "filters": ["request_id"],\n',
        "",
        ("docs/middleware.md",),
    ),
    Mutation(
        "LOGGING does not send uvicorn's access line to the stamped handler",
        "snippets/middleware.py",
        '        "uvicorn.access": {\n            "handlers": ["stamped"],',
        '        "uvicorn.access": {\n            "handlers": [],',
        ("docs/middleware.md",),
    ),
    Mutation(
        "run_in_executor handed the function without a copy of the context",
        "docs/middleware.md",
        'None, contextvars.copy_context().run, render, ["copied"]',
        'None, render, ["copied"]',
        ("docs/middleware.md",),
    ),
    Mutation(
        "local_server ignores the logging configuration it is given",
        "snippets/local_server.py",
        "                log_config=log_config,\n",
        "                log_config=None,\n",
        ("docs/middleware.md",),
    ),
    # The PostgreSQL page and the real server under it.
    Mutation(
        "PostgreSQL: pooled connections handed out untested after a restart",
        "snippets/users_postgres.py",
        "pool_pre_ping=True,",
        "pool_pre_ping=False,",
        ("docs/postgres.md",),
    ),
    Mutation(
        "PostgreSQL: no handler for the pool's timeout, a 500 instead of a quick 503",
        "snippets/users_postgres.py",
        "DATABASE_ERRORS = (DBAPIError, PoolTimeoutError, OSError)",
        "DATABASE_ERRORS = (DBAPIError, OSError)",
        ("docs/postgres.md",),
    ),
    Mutation(
        "PostgreSQL: a query parameter interpolated into the SQL",
        "snippets/users_postgres.py",
        "query.where(UserRow.username == username)",
        "query.where(__import__('sqlalchemy').text(f\"username = '{username}'\"))",
        ("docs/postgres.md",),
    ),
    Mutation(
        "PostgreSQL: no statement timeout on the app's connections",
        "snippets/users_postgres.py",
        '"statement_timeout": str(pool.statement_timeout_ms),',
        "",
        ("docs/postgres.md",),
    ),
    Mutation(
        "PostgreSQL: a statement timeout taken for a bug, a 500",
        "snippets/users_postgres.py",
        '    "57",  # operator intervention: statement timeout, server shutting down\n',
        "",
        ("docs/postgres.md",),
    ),
    Mutation(
        "PostgreSQL: a server that cannot be reached taken for a bug, a 500",
        "snippets/users_postgres.py",
        "    if isinstance(error, OSError):  # the server cannot be reached at all\n"
        "        return True\n",
        "",
        ("tests/test_faults.py::test_a_postgres_outage_is_a_clear_503_that_leaks_nothing",),
    ),
    Mutation(
        "PostgreSQL: every page handed the one seeded database",
        "tests/support/postgres.py",
        "return server.url(name)",
        "return server.url(TEMPLATE)",
        ("tests/test_harness.py::test_a_postgresql_page_gets_a_fresh_database_and_the_real_clock",),
    ),
    Mutation(
        "PostgreSQL: a page on the real server run on the virtual clock",
        "tests/support/pages.py",
        '        page.clock = "real"\n',
        "",
        ("tests/test_harness.py::test_a_postgresql_page_gets_a_fresh_database_and_the_real_clock",),
    ),
    Mutation(
        "PostgreSQL: REQUIRE_POSTGRES ignored, a missing server skipped in CI",
        "tests/support/pages.py",
        "        page.required = postgres.required()",
        "        page.required = False",
        ("tests/test_harness.py::test_without_a_server_a_postgresql_page_fails_where_required",),
    ),
    Mutation(
        "PostgreSQL: a misspelt query taken for an outage, a 503 instead of a 500",
        "snippets/users_postgres.py",
        "    if not is_an_outage(error):\n        raise error\n",
        "",
        ("docs/postgres.md",),
    ),
    Mutation(
        "PostgreSQL: the pages' apps connecting as the superuser",
        "tests/support/postgres.py",
        "user: str = APP_USER",
        "user: str = USER",
        ("docs/postgres.md",),
    ),
    Mutation(
        "PostgreSQL: a failed start-up removing the directory of a server left running",
        "tests/support/postgres.py",
        '        log = tail(directory / "log")\n        Cluster(directory, 0).stop()\n',
        '        log = tail(directory / "log")\n'
        "        shutil.rmtree(directory, ignore_errors=True)\n",
        ("tests/test_harness.py::test_a_failed_postgresql_start_up_stops_the_server_and_says_why",),
    ),
    Mutation(
        "PostgreSQL: Cluster.stop removing the directory only, the server still running",
        "tests/support/postgres.py",
        'self.pg_ctl("stop", "-m", "immediate", "-w")',
        "pass",
        ("tests/test_harness.py::test_a_failed_postgresql_start_up_stops_the_server_and_says_why",),
    ),
    Mutation(
        "PostgreSQL: users' data in the logged errors",
        "snippets/users_postgres.py",
        "hide_parameters=True,",
        "hide_parameters=False,",
        ("docs/postgres.md",),
    ),
    Mutation(
        "PostgreSQL: a failed start-up's message without the server's log",
        "tests/support/postgres.py",
        "        if isinstance(error, NoServer) and log:\n",
        "        if False:\n",
        ("tests/test_harness.py::test_a_failed_postgresql_start_up_stops_the_server_and_says_why",),
    ),
    # WebSockets: the engine's conversations, and the room's claims.
    Mutation(
        "the engine passing a websocket conversation that went differently",
        "src/pytest_pages/conversations.py",
        "    if transcript == shown and not errors:\n",
        "    if not errors:\n",
        (
            "tests/test_harness.py::"
            "test_a_differing_conversation_fails_with_a_diff_naming_the_page_and_lines",
        ),
    ),
    Mutation(
        "no bound on a websocket member's outbox",
        "snippets/websockets_room.py",
        "asyncio.Queue(maxsize=OUTBOX_SIZE)",
        "asyncio.Queue()",
        ("docs/websockets.md",),
    ),
    Mutation(
        "a websocket accepted before its token is checked",
        "snippets/websockets_room.py",
        "    name: Annotated[str, Depends(member_name)],\n"
        ") -> None:\n"
        "    await websocket.accept()  # only once the token is known\n",
        "    token: str,\n"
        ") -> None:\n"
        "    await websocket.accept()  # only once the token is known\n"
        "    name = await member_name(token)\n",
        ("docs/websockets.md",),
    ),
    Mutation(
        "a websocket member left in the room after it disconnects",
        "snippets/websockets_room.py",
        "        room.leave(member)\n        if not room.members:",
        "        if not room.members:",
        ("docs/websockets.md",),
    ),
    Mutation(
        "a dropped websocket member's close waiting for ever",
        "snippets/websockets_room.py",
        "asyncio.timeout(CLOSE_TIMEOUT)",
        "asyncio.timeout(None)",
        ("docs/websockets.md",),
    ),
    Mutation(
        "a websocket burst broadcast without letting the members' senders run",
        "snippets/websockets_room.py",
        "            await asyncio.sleep(0)\n",
        "",
        ("docs/websockets.md",),
    ),
    Mutation(
        "a websocket handshake from a foreign origin let in",
        "snippets/websockets_room.py",
        "    if origin is not None and origin not in ALLOWED_ORIGINS:\n",
        "    if False:\n",
        ("docs/websockets.md",),
    ),
    Mutation(
        "a binary websocket message crashing the room's handler",
        "snippets/websockets_room.py",
        'text = message.get("text")',
        'text = message["text"]',
        ("docs/websockets.md",),
    ),
    Mutation(
        "a superuser connection tried once, though the slot it needs is still being freed",
        "docs/postgres.md",
        "deadline = time.perf_counter() + patience",
        "deadline = time.perf_counter()",
        ("docs/postgres.md",),
    ),
    Mutation(
        "the 2-worker benchmark silently running one worker",
        "scripts/benchmarks.py",
        '"async sleep, --workers 2": Kind("/async-sleep", {}, ("--workers", "2")),',
        '"async sleep, --workers 2": Kind("/async-sleep", {}, ("--workers", "1")),',
        (
            "tests/test_benchmarks.py"
            "::test_the_worker_kinds_run_one_process_and_a_supervisor_of_two",
        ),
    ),
    Mutation(
        "a benchmarked server with workers measured in its supervisor only",
        "scripts/benchmarks.py",
        "        tree = process_tree(pid)\n        peak_threads = threads(tree)\n",
        "        tree = [pid]\n        peak_threads = threads(tree)\n",
        ("tests/test_benchmarks.py::test_a_tiny_run_measures_every_endpoint",),
    ),
    Mutation(
        "benchmarks --kinds dropping the rows it did not measure",
        "scripts/benchmarks.py",
        'kept = [r for r in published[key] if r["kind"] not in kinds]',
        "kept: list[dict[str, Any]] = []",
        ("tests/test_benchmarks.py::test_a_subset_of_kinds_is_merged_into_the_published_results",),
    ),
    Mutation(
        "a 2-worker benchmark figure recorded otherwise than the page states",
        "docs/benchmarks/results.json",
        '"wall_seconds": 4.96,',
        '"wall_seconds": 5.46,',
        ("docs/benchmarks.md",),
    ),
    Mutation(
        "a worker answering with its supervisor's process id",
        "snippets/workers.py",
        '"pid": os.getpid(),',
        '"pid": os.getppid(),',
        ("docs/workers.md",),
    ),
    Mutation(
        "a worker's count of requests served counting two a request",
        "snippets/workers.py",
        "tally.served += 1",
        "tally.served += 2",
        ("docs/workers.md",),
    ),
    Mutation(
        "a worker's lifespan skipping its shutdown half",
        "snippets/workers.py",
        '    logger.info("worker %d: stopped", os.getpid())\n',
        "",
        ("docs/workers.md",),
    ),
    Mutation(
        "workers stopped with no graceful wait for the requests in flight",
        "docs/workers.md",
        '"--workers 2 --timeout-graceful-shutdown 4 --log-level trace"',
        '"--workers 2 --timeout-graceful-shutdown 0 --log-level trace"',
        ("docs/workers.md",),
    ),
    Mutation(
        "--limit-concurrency one higher than the page states",
        "docs/workers.md",
        '"--limit-concurrency 3 --timeout-keep-alive 1"',
        '"--limit-concurrency 4 --timeout-keep-alive 1"',
        ("docs/workers.md",),
    ),
    Mutation(
        "a keep-alive timeout longer than the slow clients' proof lasts",
        "docs/workers.md",
        '"--limit-concurrency 3 --timeout-keep-alive 1"',
        '"--limit-concurrency 3 --timeout-keep-alive 10"',
        ("docs/workers.md",),
    ),
    Mutation(
        "the workers page back on the virtual clock",
        "docs/workers.md",
        "clock: real\n",
        "",
        ("docs/workers.md",),
    ),
    Mutation(
        "the harness ignoring a page's clock: real",
        "src/pytest_pages/runtime.py",
        'real = self.clock == "real"',
        "real = False",
        ("tests/test_harness.py::test_a_page_with_clock_real_runs_on_the_real_clock",),
    ),
    Mutation(
        "the harness taking any clock: it is given",
        "src/pytest_pages/markdown.py",
        'CLOCKS = ("virtual", "real")',
        'CLOCKS = ("virtual", "real", "wall")',
        ("tests/test_harness.py::test_the_front_matter_names_the_pages_clock",),
    ),
    Mutation(
        "a server left by a failed page killed without its workers",
        "tests/support/processes.py",
        "os.killpg(process.pid, signal.SIGKILL)",
        "os.kill(process.pid, signal.SIGKILL)",
        ("tests/test_processes.py::test_a_killed_server_takes_its_workers_with_it",),
    ),
    Mutation(
        "each mutant copying node_modules, though the baseline only links it",
        "scripts/mutations.py",
        # With the line after it, so that this file holds the text only once.
        "into, symlinks=True)\n    return into",
        "into)\n    return into",
        ("tests/test_mutations.py",),
    ),
    Mutation(
        "workers: a stream sent whole at once, nothing under way to cut off",
        "snippets/workers.py",
        "            await asyncio.sleep(1)\n",
        "            await asyncio.sleep(0)\n",
        ("docs/workers.md",),
    ),
    Mutation(
        "workers: a graceful timeout longer than the stream lasts",
        "docs/workers.md",
        'UvicornProcess("workers:app", "--timeout-graceful-shutdown", "1")',
        'UvicornProcess("workers:app", "--timeout-graceful-shutdown", "40")',
        ("docs/workers.md",),
    ),
    Mutation(
        "workers: the untimed server given a graceful timeout after all",
        "docs/workers.md",
        'untimed = UvicornProcess("workers:app")',
        'untimed = UvicornProcess("workers:app", "--timeout-graceful-shutdown", "1")',
        ("docs/workers.md",),
    ),
    Mutation(
        "workers: the worker sent SIGTERM, which lets its request finish",
        "docs/workers.md",
        "os.kill(doomed, signal.SIGKILL)",
        "os.kill(doomed, signal.SIGTERM)",
        ("docs/workers.md",),
    ),
    Mutation(
        "workers: the health check said to be answered by the event loop",
        "docs/workers.md",
        '"threading.Thread(target=self.always_pong, daemon=True)"',
        '"asyncio.create_task(self.always_pong())"',
        ("docs/workers.md",),
    ),
    Mutation(
        "workers: gunicorn's uvicorn worker said to pass the graceful timeout on",
        "docs/workers.md",
        'assert "timeout_graceful_shutdown" not in module',
        'assert "timeout_graceful_shutdown" in module',
        ("docs/workers.md",),
    ),
    Mutation(
        "workers: a supervisor said to exit 3 when a worker fails to start",
        "docs/workers.md",
        'assert "and config.workers == 1:" in inspect.getsource(run_uvicorn)',
        'assert "and config.workers == 1:" not in inspect.getsource(run_uvicorn)',
        ("docs/workers.md",),
    ),
    Mutation(
        "scheduling: pages not recognised, so xdist's load splits them",
        "src/pytest_pages/scheduling.py",
        "    return file if file.endswith(PAGE_SUFFIX) else None",
        "    return None",
        ("tests/test_parallel.py",),
    ),
    Mutation(
        "scheduling: worksteal left to xdist, which steals half a page",
        "src/pytest_pages/scheduling.py",
        'SPLITTING_MODES = frozenset({"load", "loadgroup", "worksteal"})',
        'SPLITTING_MODES = frozenset({"load", "loadgroup"})',
        ("tests/test_parallel.py",),
    ),
    Mutation(
        "the plugin's scheduler never registered, so plain -n splits the pages",
        "src/pytest_pages/plugin.py",
        '        config.pluginmanager.register(scheduling, "pages-scheduling")',
        "        pass",
        ("tests/test_sample_project.py",),
    ),
    Mutation(
        "a worker's figures dropped from the run's",
        "src/pytest_pages/plugin.py",
        '        figures.of(node.config).add(output["pages"])',
        "        pass",
        ("tests/test_sample_project.py",),
    ),
    Mutation(
        "the report's versions made up",
        "src/pytest_pages/figures.py",
        "            found[name] = metadata.version(name)",
        '            found[name] = "1.0"',
        ("tests/test_sample_project.py",),
    ),
    Mutation(
        "the plugin collecting docs/ where nobody asked it to",
        "src/pytest_pages/plugin.py",
        "    if not folders:\n        return\n",
        '    if not folders:\n        folders = [config.rootpath / "docs"]\n',
        ("tests/test_sample_project.py::test_without_the_ini_option_the_plugin_collects_nothing",),
    ),
    Mutation(
        "--update-docs ignored",
        "src/pytest_pages/runtime.py",
        'self.update_docs: bool = config.getoption("update_docs", False)',
        "self.update_docs: bool = False",
        ("tests/test_harness.py::test_update_docs_rewrites_exactly_the_response_that_changed",),
    ),
    Mutation(
        "--update-docs rewriting a conversation in which the app raised",
        "src/pytest_pages/conversations.py",
        "    if page.update_docs and not errors:\n",
        "    if page.update_docs:\n",
        (
            "tests/test_harness.py::test_update_docs_keeps_each_conversations_fence_attributes_and_place",
        ),
    ),
    Mutation(
        "--update-docs writing a block's opening fence afresh, attributes lost",
        "src/pytest_pages/shown.py",
        '"\\n".join([opening, *inside, closing])',
        '"\\n".join([opening.split(" ")[0], *inside, closing])',
        (
            "tests/test_harness.py::test_update_docs_keeps_each_conversations_fence_attributes_and_place",
        ),
    ),
    Mutation(
        "a shown output that is not what the block prints",
        "docs/parallel_tasks.md",
        "after 3.0 s\n```",
        "after 2.0 s\n```",
        ("docs/parallel_tasks.md",),
    ),
    Mutation(
        "a plain block after a Python block not taken for its output",
        "src/pytest_pages/blocks.py",
        "output = outputs.after(lexed.end) if is_fenced else None",
        "output = None",
        (
            "tests/test_harness.py::test_printed_output_that_differs_fails_with_a_diff_naming_the_page_line",
        ),
    ),
    Mutation(
        "printed output compared with its trailing spaces",
        "src/pytest_pages/output.py",
        "lines = [line.rstrip() for line in text.splitlines()]",
        "lines = text.splitlines()",
        ("tests/test_harness.py::test_a_plain_block_after_a_python_block_shows_what_it_prints",),
    ),
    Mutation(
        "a shown output under a block that prints nothing let through",
        "src/pytest_pages/output.py",
        "    if not actual:\n",
        "    if not actual and actual:\n",
        ("tests/test_harness.py::test_a_shown_output_under_a_block_that_prints_nothing_fails",),
    ),
    Mutation(
        "--update-docs leaving printed output as it was",
        "src/pytest_pages/output.py",
        '        page.updates.append((shown.block, "\\n".join(actual)))\n',
        "",
        (
            "tests/test_harness.py::test_update_docs_rewrites_printed_output_keeping_its_fences_and_indentation",
        ),
    ),
    Mutation(
        "a number in the prose that is not what the run says",
        "docs/parallel_tasks.md",
        "5.0<!-- = sequential_seconds -->",
        "4.0<!-- = sequential_seconds -->",
        ("docs/parallel_tasks.md",),
    ),
    Mutation(
        "prose numbers read but never compared",
        "src/pytest_pages/prose.py",
        "        if computed == number.shown:\n",
        "        if computed:\n",
        (
            "tests/test_harness.py::test_a_prose_number_the_run_contradicts_fails_naming_the_page_line",
        ),
    ),
    Mutation(
        "prose numbers compared to six decimals, whatever the page shows",
        "src/pytest_pages/prose.py",
        'decimals = len(self.shown.partition(".")[2])',
        "decimals = 6",
        ("tests/test_harness.py::test_a_prose_number_is_checked_once_the_page_has_run",),
    ),
    Mutation(
        "prose numbers evaluated where they stand, before the blocks that compute them",
        "src/pytest_pages/prose.py",
        "            end = len(document.text)\n",
        "            end = found[0].span[1]\n",
        ("tests/test_harness.py::test_a_prose_number_is_checked_once_the_page_has_run",),
    ),
    Mutation(
        "a marker in inline code taken for a prose number",
        "src/pytest_pages/prose.py",
        "    return CODE_SPAN.sub(lambda span: blank(span[0]), text)\n",
        "    return text\n",
        ("tests/test_harness.py::test_a_prose_number_is_checked_once_the_page_has_run",),
    ),
    Mutation(
        "a marker wrapped across lines no longer seen",
        "src/pytest_pages/prose.py",
        r'r"<!--\s*=\s*(?P<expression>.*?)\s*-->"',
        r'r"<!--[ \t]*=[ \t]*(?P<expression>.*?)[ \t]*-->"',
        ("tests/test_harness.py::test_a_prose_number_is_checked_once_the_page_has_run",),
    ),
    Mutation(
        "--update-docs leaving prose numbers as they were",
        "src/pytest_pages/prose.py",
        "            page.number_updates.append((number.span, computed))\n",
        "",
        (
            "tests/test_harness.py::test_update_docs_rewrites_a_prose_number_in_place_with_its_decimals",
        ),
    ),
    Mutation(
        "make mutate running its mutants one at a time, whatever the jobs",
        "scripts/mutations.py",
        # With the line after it, so that this file holds the text only once.
        "(max_workers=jobs) as pool:\n        numbers",
        "(max_workers=1) as pool:\n        numbers",
        ("tests/test_mutations.py::test_mutants_run_at_the_same_time_each_in_its_own_copy",),
    ),
    Mutation(
        "make mutate deaf to MUTATE_JOBS",
        "scripts/mutations.py",
        'os.environ.get("MUTATE_JOBS") or len(os.sched_getaffinity(0)))\n',
        "len(os.sched_getaffinity(0)))\n",
        ("tests/test_mutations.py::test_mutate_jobs_sets_how_many_mutants_run_at_once",),
    ),
    Mutation(
        "each mutant's copy left behind in the scratch directory",
        "scripts/mutations.py",
        "    shutil.rmtree(copy)\n    return (mutation.name",
        "    return (mutation.name",
        ("tests/test_mutations.py::test_mutants_run_at_the_same_time_each_in_its_own_copy",),
    ),
    Mutation(
        "a 10-run repeat of its own in CI again, on top of make mutate's",
        ".ci/run",
        "    timed offline make mutate\n",
        "    timed offline make repeat RUNS=10\n    timed offline make mutate\n",
        (f"tests/test_commands.py::test_ci_runs_make_test_and_make_mutate{REPEATS}",),
    ),
    Mutation(
        "CI without make mutate",
        ".ci/run",
        "    timed offline make mutate\n",
        "",
        (f"tests/test_commands.py::test_ci_runs_make_test_and_make_mutate{REPEATS}",),
    ),
    Mutation(
        "the soak run on demand only, never on its schedule",
        ".github/workflows/soak.yml",
        '  schedule:\n    - cron: "17 3 * * 1"  # Mondays, 03:17 UTC\n',
        "",
        ("tests/test_commands.py::test_the_soak_workflow_repeats_the_suite_20_times_weekly",),
    ),
    Mutation(
        "mutants running the installed engine, the repository's, not their own",
        "scripts/mutations.py",
        # With the line after it, so that this file holds the text only once.
        'str(copy / "src")}\n    # PYTHONDONTWRITEBYTECODE',
        'str(ROOT / "src")}\n    # PYTHONDONTWRITEBYTECODE',
        ("tests/test_mutations.py::test_a_mutant_runs_its_own_engine_and_writes_no_bytecode",),
    ),
    Mutation(
        "mutants' tests writing bytecode into the repository, through the installed engine",
        "scripts/mutations.py",
        # With the line before it, so that this file holds the text only once.
        'run.\n    env = {**os.environ, "NO_MKDOCS',
        'run.\n    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "NO_MKDOCS',
        ("tests/test_mutations.py::test_a_mutant_runs_its_own_engine_and_writes_no_bytecode",),
    ),
    Mutation(
        "a page whose set-up failed, counted and asked for its clock at teardown",
        "src/pytest_pages/collection.py",
        "                if page is None or not page.opened:",
        "                if page is None:",
        ("tests/test_sample_project.py::test_a_failing_set_up_closes_what_it_opened_and_says_why",),
    ),
    Mutation(
        "the network guard registered whatever the ini says",
        "src/pytest_pages/plugin.py",
        '    if config.getini("pages_guard_network"):',
        "    if True:",
        ("tests/test_sample_project.py::test_the_network_guard_is_on_where_the_ini_says",),
    ),
    Mutation(
        "verification: the sample's hook no longer the one the page shows",
        "tests/sample_project/conftest.py",
        '"greeting", "Hello")',
        '"greeting", "Hi")',
        ("docs/verification.md",),
    ),
    Mutation(
        "verification: the sample's loop seconds misstated",
        "docs/verification.md",
        '  "loop seconds": 6.0',
        '  "loop seconds": 4.0',
        ("docs/verification.md",),
    ),
    Mutation(
        "pages load certifi's whole bundle into each client again",
        "tests/support/pages.py",
        'page.environment["SSL_CERT_FILE"] = str(',
        'page.environment["UNUSED"] = str(',
        ("tests/test_harness.py::test_each_page_loads_one_certificate_into_each_httpx_client",),
    ),
    Mutation(
        "the suite refused under -p no:xdist",
        "tests/conftest.py",
        "@pytest.hookimpl(optionalhook=True)\ndef pytest_testnodedown",
        "def pytest_testnodedown",
        ("tests/test_parallel.py::test_the_suite_runs_without_xdist",),
    ),
    Mutation(
        "mutants' screenshots among the site's own",
        "scripts/mutations.py",
        '    env.pop("SCREENSHOTS_DIR", None)\n',
        "",
        ("tests/test_mutations.py::test_a_mutant_runs_its_own_engine_and_writes_no_bytecode",),
    ),
    Mutation(
        "the unchanged copy runs no snippet's test",
        "scripts/mutations.py",
        # With the line after it, so that this file holds the text only once.
        '"snippets", *modules, *sorted(browser))\n\n\ndef first_failure',
        "*modules, *sorted(browser))\n\n\ndef first_failure",
        (
            "tests/test_mutations.py::test_the_unchanged_copy_runs_make_repeats_tests_in_a_new_order",
        ),
    ),
    Mutation(
        "the unchanged copy in the same order every time",
        "scripts/mutations.py",
        # With the line after it, so that this file holds the text only once.
        '"loadfile"] if workers else ["-p", "no:randomly"]\n    return',
        '"loadfile", "-p", "no:randomly"] if workers else ["-p", "no:randomly"]\n    return',
        (
            "tests/test_mutations.py::test_the_unchanged_copy_runs_make_repeats_tests_in_a_new_order",
        ),
    ),
    Mutation(
        "test-latest: a release newer than the lock's left out of the report",
        "scripts/latest.py",
        "if locked.get(name) != installed.get(name)",
        "if name not in locked",
        ("tests/test_latest.py::test_only_the_versions_that_differ_from_the_lock_are_reported",),
    ),
    Mutation(
        "test-latest: a page's failure reported among the other checks",
        "scripts/latest.py",
        'group = f"docs/{page[\'page\']}" if page else "other checks"',
        'group = "other checks"',
        ("tests/test_latest.py::test_failures_are_grouped_by_page_with_their_first_error_line",),
    ),
    Mutation(
        "the browser test's pages one unit again, for one worker",
        "tests/support/scheduling.py",
        'return f"{file}[{page}"',
        "return file",
        ("tests/test_parallel.py::test_make_tests_workers_share_the_browser_tests_pages",),
    ),
    Mutation(
        "the stamp counts the wrong exchanges",
        "hooks/stamp.py",
        '("exchanges verified in process", "exchange", "exchanges")',
        '("exchanges verified over a socket", "exchange", "exchanges")',
        ("tests/test_site.py::test_every_page_carries_a_stamp_with_the_reports_figures",),
    ),
    Mutation(
        "a page whose check failed stamped as verified",
        "hooks/stamp.py",
        'if counts.get("checks failed"):',
        "if False:",
        ("tests/test_site.py::test_every_page_carries_a_stamp_with_the_reports_figures",),
    ),
    Mutation(
        "the site built without its stamps",
        "mkdocs.yml",
        "hooks:\n  - hooks/stamp.py\n",
        "",
        ("tests/test_site.py::test_every_page_carries_a_stamp_with_the_reports_figures",),
    ),
    Mutation(
        "the report keeps no page's failed checks",
        "src/pytest_pages/figures.py",
        '            self.count_on_page_only(page, "checks failed", 1)\n',
        "",
        ("tests/test_sample_project.py::test_a_sample_page_that_breaks_fails_naming_its_line",),
    ),
    Mutation(
        "the report names no commit",
        "src/pytest_pages/figures.py",
        '["git", "rev-parse", "HEAD"]',
        '["git", "rev-parse", "--short", "HEAD"]',
        ("tests/test_sample_project.py::test_the_report_names_the_commit_it_verified",),
    ),
    Mutation(
        "the shown-lines guard counts comments and blank lines",
        "tests/support/shown_lines.py",
        "if line not in statements.get(path, set()) or (path, line) in seen:",
        "if (path, line) in seen:",
        (
            "tests/test_shown_lines.py::test_lines_that_are_not_statements_or_are_shown_twice_count_once",
        ),
    ),
    Mutation(
        "the shown-lines guard keeps stale entries",
        "tests/support/shown_lines.py",
        "        if i not in listed_used\n",
        "        if False\n",
        (
            "tests/test_shown_lines.py::test_a_listed_line_that_runs_or_is_not_shown_must_come_off_the_list",
        ),
    ),
    Mutation(
        "make test measured by nothing",
        "Makefile",
        "--cov --cov-report= ",
        "",
        ("tests/test_shown_lines.py::test_make_test_measures_the_whole_run_for_the_guard",),
    ),
    Mutation(
        "local_server lets uvicorn's sys.exit stop the loop",
        "snippets/local_server.py",
        "    with suppress(SystemExit):\n        await server.serve(sockets=[listening])\n",
        "    await server.serve(sockets=[listening])\n",
        ("tests/test_local_server.py::test_a_server_that_stops_before_it_starts_raises",),
    ),
    Mutation(
        "Retry-After's -0000 dates left without a zone",
        "snippets/upstream_errors.py",
        "        when = when.replace(tzinfo=UTC)\n",
        "        when = when.replace(tzinfo=None)\n",
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "a prose number's marker allowed on the line after it",
        "src/pytest_pages/prose.py",
        '(?:\\.\\d+)?\\Z")',
        '(?:\\.\\d+)?$")',
        ("tests/test_harness.py::test_a_marker_that_follows_no_number_is_refused",),
    ),
    Mutation(
        "pages changed since the run still stamped verified",
        "hooks/stamp.py",
        'if report.get("sources") != sources:',
        "if False:",
        ("tests/test_site.py::test_pages_changed_after_the_run_are_not_stamped_verified",),
    ),
    Mutation(
        "a page whose every check was skipped stamped verified",
        "hooks/stamp.py",
        "if not any(counts.get(key) for key, _, _ in COUNTED):",
        "if False:",
        ("tests/test_site.py::test_every_page_carries_a_stamp_with_the_reports_figures",),
    ),
    Mutation(
        "unrun shown lines fail no run",
        "tests/support/shown_lines.py",
        "            session.testsfailed += 1\n",
        "            pass\n",
        ("tests/test_shown_lines.py::test_a_whole_run_that_left_shown_lines_unrun_fails",),
    ),
]


# What `make setup` installs from the npm registry, which the browser test needs: linked into
# each copy, never copied (node_modules is large) and never changed by a mutation.
NPM_SET_UP = ("node_modules", "docs/javascripts/mermaid.min.js")


def copy_of_repository(into: Path) -> Path:
    """The tracked files, as they are in the working tree, and links to the npm set-up;
    nothing else (no .venv, no site)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return link_npm_set_up(into)


def link_npm_set_up(into: Path) -> Path:
    """Links in `into` to what `make setup` installed from npm, where it did."""
    for name in NPM_SET_UP:
        if (ROOT / name).exists():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            (into / name).symlink_to(ROOT / name)
    return into


def copy_of_mutant(baseline: Path, into: Path) -> Path:
    """A copy of the baseline for one mutation, its links to the npm set-up kept as links."""
    shutil.copytree(baseline, into, symlinks=True)
    return into


def environment(copy: Path) -> dict[str, str]:
    """What pytest runs with in `copy`."""
    # The set-up's commands first on PATH, as `make` runs them (the site tests call mkdocs).
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    # The copy's own engine (src/pytest_pages) before the one `make setup` installed, which
    # is the repository's: a mutation of the engine must be what the tests run.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PATH": path, "PYTHONPATH": str(copy / "src")}
    # PYTHONDONTWRITEBYTECODE, from `make mutate`, stays: some tests start pytests of their own
    # that import the installed engine, the repository's, and would write its bytecode there.
    # SCREENSHOTS_DIR goes (the publish workflow sets it for all of CI): the browser test would
    # put its pictures of a mutant's broken site among those of the site itself.
    env.pop("SCREENSHOTS_DIR", None)
    return env


def pytest(
    copy: Path, tests: tuple[str, ...], workers: int = 0
) -> subprocess.CompletedProcess[str]:
    """The tests, in order; with `workers` (the baseline, the whole suite), on that many
    workers, each running whole files, in a new random order, as `make test` does."""
    order = ["-n", str(workers), "--dist", "loadfile"] if workers else ["-p", "no:randomly"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", *order, *tests],
        cwd=copy,
        env=environment(copy),
        capture_output=True,
        text=True,
        timeout=1200 if workers else 600,
        check=False,
    )


def baseline_tests(copy: Path, chosen: list[Mutation]) -> tuple[str, ...]:
    """What the unchanged copy runs: the pages, the snippets' tests and every test module
    but the browser test, as `make repeat` does; and the browser tests `chosen` name."""
    modules = sorted(
        path.relative_to(copy).as_posix()
        for path in (copy / "tests").glob("test_*.py")
        if path.relative_to(copy).as_posix() != BROWSER
    )
    browser = {test for mutation in chosen for test in mutation.tests if test.startswith(BROWSER)}
    return ("docs", "snippets", *modules, *sorted(browser))


def first_failure(output: str) -> str:
    """The first test pytest reports failed or in error, from its short summary."""
    # One space, then the test: a captured log line ("ERROR    uvicorn.error:...") has several.
    match = re.search(r"^(?:FAILED|ERROR) (\S.*?)(?: - .*)?$", output, re.MULTILINE)
    return match[1] if match else "?"


def default_jobs() -> int:
    """MUTATE_JOBS, or else one mutant for each CPU this process may run on."""
    return int(os.environ.get("MUTATE_JOBS") or len(os.sched_getaffinity(0)))


Run = Callable[[Path, tuple[str, ...]], subprocess.CompletedProcess[str]]
Row = tuple[str, str, str, str, str]


def try_mutant(number: int, mutation: Mutation, baseline: Path, run: Run) -> tuple[Row, bool]:
    """One mutant, in a copy of the baseline of its own, removed afterwards: its table row,
    and whether its tests caught it."""
    copy = copy_of_mutant(baseline, baseline.parent / f"mutant-{number}")
    target = copy / mutation.path
    target.write_text(
        target.read_text(encoding="utf-8").replace(mutation.old, mutation.new), encoding="utf-8"
    )
    started = time.perf_counter()
    try:
        finished = run(copy, mutation.tests)
    except subprocess.TimeoutExpired:
        # The mutant hung its tests: they did not pass, so it is caught, and said so.
        caught, verdict, failure = True, "caught (hung: pytest timed out)", "-"
    else:
        returncode = finished.returncode
        caught = returncode in (1, 2)
        verdict = "caught" if caught else f"SURVIVED (exit {returncode})"
        failure = first_failure(finished.stdout) if returncode else "-"
    seconds = time.perf_counter() - started
    shutil.rmtree(copy)
    return (mutation.name, mutation.path, verdict, failure, f"{seconds:.1f}"), caught


def try_mutants(
    chosen: list[Mutation], baseline: Path, jobs: int, run: Run = pytest
) -> list[tuple[Row, bool]]:
    """Every mutant, `jobs` at a time (each is one pytest, mostly waiting on one CPU or on a
    server: run one after another, the 170 or so took 20 minutes); rows in `chosen`'s order."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        numbers = range(1, len(chosen) + 1)
        return list(pool.map(lambda n, m: try_mutant(n, m, baseline, run), numbers, chosen))


def main(only: str = "", jobs: int = 0) -> int:
    """Every mutation, or those whose name or file contains `only` (`python scripts/mutations.py
    files.py` tries one snippet's mutations while writing them); `jobs` at a time."""
    jobs = jobs or default_jobs()
    chosen = [m for m in MUTATIONS if only in m.name or only in m.path]
    if not chosen:
        print(f"no mutation's name or file contains {only!r}")
        return 1
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        baseline = copy_of_repository(Path(scratch) / "baseline")
        # Before any test runs: a mutation that no longer applies is a mistake in this file.
        for mutation in chosen:
            if (baseline / mutation.path).read_text(encoding="utf-8").count(mutation.old) != 1:
                print(
                    f"mutation {mutation.name!r} no longer applies: its text is not in "
                    f"{mutation.path} exactly once"
                )
                return 1
        # All of them: the suite first (CI's repeat); some, while writing them: just their tests.
        named = tuple(sorted({test for mutation in chosen for test in mutation.tests}))
        unchanged = pytest(baseline, named if only else baseline_tests(baseline, chosen), jobs)
        if unchanged.returncode != 0:
            print(unchanged.stdout + unchanged.stderr)
            print("the unchanged copy fails: fix that before mutating it")
            return 1
        results = try_mutants(chosen, baseline, jobs)

    print("| mutation | file | verdict | first test to fail | s |")
    print("| --- | --- | --- | --- | ---: |")
    for row, _ in results:
        print("| " + " | ".join(row) + " |")
    caught = sum(caught for _, caught in results)
    print(f"\ncaught/total: {caught}/{len(chosen)}")
    return 0 if caught == len(chosen) else 1


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("only", nargs="?", default="", help="a mutation's name or file, or part")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=0,
        help="mutants at a time (default: MUTATE_JOBS, or else the number of CPUs)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = arguments(sys.argv[1:])
    sys.exit(main(options.only, options.jobs))
