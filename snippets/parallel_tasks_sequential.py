"""The same two tasks, awaited one after the other."""

from fastapi import FastAPI

from parallel_tasks import task_1, task_2

app = FastAPI()


@app.get("/parallel-tasks")
async def parallel_tasks() -> dict[str, list[str]]:
    first = await task_1()
    second = await task_2()  # starts only once task_1 is done
    return {"results": [first, second]}
