"""Files without blocking the event loop: uploads saved chunk by chunk, listed and served with
anyio's async file API."""

import os
from typing import Annotated

import anyio
from fastapi import FastAPI, HTTPException, Path, UploadFile, status
from fastapi.responses import FileResponse

CHUNK = 64 * 1024  # bytes read and written at a time
MAX_BYTES = 10 * 1024 * 1024
# A plain file name: no slashes, no leading dot, so no way out of the folder.
FileName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]

app = FastAPI()


def folder() -> anyio.Path:
    return anyio.Path(os.environ.get("FILES_DIR", "./files"))


@app.put("/files/{name}", status_code=status.HTTP_201_CREATED)
async def save_file(name: FileName, upload: UploadFile) -> dict[str, str | int]:
    """Save an upload as `name`, one chunk in memory at a time; all of it, or nothing."""
    await folder().mkdir(parents=True, exist_ok=True)
    partial = folder() / f".{name}.partial"  # hidden until complete
    size = 0
    try:
        async with await anyio.open_file(partial, "wb") as saved:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    detail = f"Files may be at most {MAX_BYTES} bytes."
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail)
                await saved.write(chunk)
        await partial.rename(folder() / name)  # readers never see a half-written file
    finally:
        await partial.unlink(missing_ok=True)
    return {"name": name, "bytes": size}


@app.get("/files")
async def list_files() -> list[str]:
    if not await folder().is_dir():
        return []
    return sorted([path.name async for path in folder().iterdir() if path.name[0] != "."])


@app.get("/files/{name}")
async def read_file(name: FileName) -> FileResponse:
    path = folder() / name
    if not await path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No file named {name!r}.")
    return FileResponse(path)  # streamed from disk in chunks, in a worker thread
