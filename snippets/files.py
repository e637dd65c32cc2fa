# --8<-- [start:setup]
"""Files without blocking the event loop: uploads saved chunk by chunk,
listed and served with anyio's async file API."""

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
MAX_BODY = MAX_BYTES + 64 * 1024  # a request's: the file, and the form
# A plain file name: no slashes, no leading dot, so no way out of the folder.
FileName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]

app = FastAPI()
# Refuses a larger body before FastAPI has parsed the form.
app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY)


def folder() -> anyio.Path:
    return anyio.Path(os.environ.get("FILES_DIR", "./files"))
    # --8<-- [end:setup]


# --8<-- [start:save]
@app.put(
    "/files/{name}",
    status_code=status.HTTP_201_CREATED,
    responses=too_large(MAX_BODY),
)
async def save_file(
    name: FileName, upload: UploadFile
) -> dict[str, str | int]:
    """Save an upload as `name`, one chunk in memory at a time: all of it,
    or nothing."""
    await folder().mkdir(parents=True, exist_ok=True)
    # This upload's own file, hidden until it is whole.
    partial = folder() / f".{name}.{uuid.uuid4().hex}"
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
        # Atomic: a reader sees the old file, or all of the new one.
        await partial.replace(folder() / name)
    finally:
        await partial.unlink(missing_ok=True)
    return {"name": name, "bytes": size}
    # --8<-- [end:save]


# --8<-- [start:serve]
@app.get("/files")
async def list_files() -> list[str]:
    if not await folder().is_dir():
        return []
    names = [path.name async for path in folder().iterdir()]
    return sorted(name for name in names if name[0] != ".")


BYTES = "application/octet-stream"
FILE: dict[int | str, dict[str, Any]] = {
    status.HTTP_200_OK: {
        "description": "The file, to save",
        "content": {BYTES: {}},
    },
    status.HTTP_404_NOT_FOUND: {
        "model": Detail,
        "description": "No such file",
    },
}


@app.get("/files/{name}", response_class=FileResponse, responses=FILE)
async def read_file(name: FileName) -> FileResponse:
    path = folder() / name
    if not await path.is_file():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No file named {name!r}."
        )
    # Always bytes to save, never the type its name claims, and browsers
    # are not to guess one: an uploaded .html or .svg would run its scripts
    # in the browser of whoever opened the link, as if this site sent them.
    nosniff = {"X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=BYTES, filename=name, headers=nosniff)
    # --8<-- [end:serve]
