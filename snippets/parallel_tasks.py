"""Independent awaits, run concurrently with asyncio.gather."""

import asyncio

from fastapi import FastAPI

app = FastAPI()


async def task_1() -> str:
    await asyncio.sleep(2)  # stands in for two seconds of I/O
    return "Task 1 complete"


async def task_2() -> str:
    await asyncio.sleep(3)
    return "Task 2 complete"


@app.get("/parallel-tasks")
async def parallel_tasks() -> dict[str, list[str]]:
    results = await asyncio.gather(
        task_1(), task_2()
    )  # results in argument order
    return {"results": list(results)}
