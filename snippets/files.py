"""Files without blocking the event loop: uploads saved chunk by chunk, listed and served with
anyio's async file API."""

import os
import uuid
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, HTTPException, Path, UploadFile, status
from fastapi.responses import FileResponse
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from client_input import Detail, too_large

CHUNK = 64 * 1024  # bytes read and written at a time
MAX_BYTES = 10 * 1024 * 1024  # a file's size, at most
MAX_BODY = (
    MAX_BYTES + 64 * 1024
)  # a request's: the file, and the form around it
# A plain file name: no slashes, no leading dot, so no way out of the folder.
FileName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]

app = FastAPI()
# Refuses a larger body before FastAPI has parsed the form: at the app's first read when its
# Content-Length is too large, or, sent chunked, as soon as the bytes received pass the limit.
app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY)

NO_SUCH_FILE: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {
        "model": Detail,
        "description": "No such file",
    },
}


def folder() -> anyio.Path:
    return anyio.Path(os.environ.get("FILES_DIR", "./files"))


@app.put(
    "/files/{name}",
    status_code=status.HTTP_201_CREATED,
    responses=too_large(MAX_BODY),
)
async def save_file(
    name: FileName, upload: UploadFile
) -> dict[str, str | int]:
    """Save an upload as `name`, one chunk in memory at a time; all of it, or nothing."""
    await folder().mkdir(parents=True, exist_ok=True)
    partial = (
        folder() / f".{name}.{uuid.uuid4().hex}"
    )  # this upload's own, hidden until whole
    size = 0
    try:
        async with await anyio.open_file(partial, "wb") as saved:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    detail = f"Files may be at most {MAX_BYTES} bytes."
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE, detail
                    )
                await saved.write(chunk)
        await partial.replace(
            folder() / name
        )  # atomic: the old file, or all of the new one
    finally:
        await partial.unlink(missing_ok=True)
    return {"name": name, "bytes": size}


@app.get("/files")
async def list_files() -> list[str]:
    if not await folder().is_dir():
        return []
    return sorted(
        [path.name async for path in folder().iterdir() if path.name[0] != "."]
    )


BYTES = "application/octet-stream"
FILE: dict[int | str, dict[str, Any]] = {
    status.HTTP_200_OK: {
        "description": "The file, to save",
        "content": {BYTES: {}},
    },
}


@app.get(
    "/files/{name}",
    response_class=FileResponse,
    responses={**FILE, **NO_SUCH_FILE},
)
async def read_file(name: FileName) -> FileResponse:
    path = folder() / name
    if not await path.is_file():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No file named {name!r}."
        )
    # Streamed from disk in chunks, in a worker thread. Always as bytes to save, never as the
    # type its name claims: an uploaded .html or .svg would run its scripts in the browser of
    # whoever opened the link, as if this site had sent them.
    nosniff = {
        "X-Content-Type-Options": "nosniff"
    }  # and browsers are not to guess one
    return FileResponse(path, media_type=BYTES, filename=name, headers=nosniff)
