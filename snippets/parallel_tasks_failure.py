"""One task fails: the task group cancels the others, and the endpoint
answers the failure with a 502."""

import asyncio
import logging

from fastapi import FastAPI, HTTPException, status

from parallel_tasks import task_1, task_2

logger = logging.getLogger(__name__)
app = FastAPI()


class TaskFailed(Exception):
    """A task's own error, such as a service it calls being down."""


async def task_3() -> str:
    await asyncio.sleep(1)
    raise TaskFailed("Task 3 failed after 1 second.")


@app.get(
    "/parallel-tasks/failing",
    responses={502: {"description": "One of the tasks failed."}},
)
async def failing_tasks() -> dict[str, list[str]]:
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(task_1()),
                group.create_task(task_2()),
                group.create_task(task_3()),
            ]
    except* TaskFailed as failed:
        # `failed` is an ExceptionGroup of the TaskFailed errors raised:
        # their text, for the log; the client gets a fixed detail
        logger.warning("A task failed", exc_info=failed)
        detail = "A task this answer needs failed."
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail) from None
    return {"results": [task.result() for task in tasks]}
