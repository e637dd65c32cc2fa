"""The same two tasks, run concurrently with asyncio.gather."""

import asyncio

from fastapi import FastAPI

from parallel_tasks import task_1, task_2

app = FastAPI()


@app.get("/parallel-tasks")
async def parallel_tasks() -> dict[str, list[str]]:
    # the results come in the order of the arguments
    results = await asyncio.gather(task_1(), task_2())
    return {"results": list(results)}
