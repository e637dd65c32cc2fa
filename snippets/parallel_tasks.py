"""Independent awaits, run concurrently in an asyncio.TaskGroup."""

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
    async with asyncio.TaskGroup() as group:
        first = group.create_task(task_1())
        second = group.create_task(task_2())
    # the block ends when both tasks have finished
    return {"results": [first.result(), second.result()]}
