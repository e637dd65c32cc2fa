"""A chat room over WebSockets: every member receives and sends at once, what
one member says is broadcast to all, and a member too slow to keep up is
closed rather than allowed to stall the room or fill the server's memory."""

# --8<-- [start:room]
import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Annotated, TypedDict

from fastapi import (
    Depends,
    FastAPI,
    Header,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    status,
)

# How many messages a member may fall behind before the room drops it.
OUTBOX_SIZE = 32
TOO_SLOW = "too slow: messages were dropped"
POLICY_VIOLATION = status.WS_1008_POLICY_VIOLATION
NOT_TEXT = "this room takes text messages only"
UNSUPPORTED_DATA = status.WS_1003_UNSUPPORTED_DATA
# How long a dropped member's close may wait for its socket to take it.
CLOSE_TIMEOUT = 10.0


class BinaryMessage(Exception):
    """The client sent bytes, which this room does not take."""


class Member:
    def __init__(self, name: str, websocket: WebSocket) -> None:
        self.name = name
        self.websocket = websocket
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self.fell_behind = asyncio.Event()

    def deliver(self, text: str) -> None:
        """Queue `text` for this member, never waiting: a full outbox
        means the member fell behind, and must go."""
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.fell_behind.set()

    async def send_queued(self) -> None:
        """Send what the room broadcasts, in order."""
        while True:
            await self.websocket.send_text(await self.outbox.get())

    async def receive_into(self, room: "Room") -> None:
        """Broadcast what the client sends; raises WebSocketDisconnect
        when the client leaves, and BinaryMessage when it sends bytes."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(
                    message["code"], message.get("reason")
                )
            text = message.get("text")
            if text is None:  # receive_text would raise KeyError
                raise BinaryMessage
            room.broadcast(f"{self.name}: {text}")
            # Let the sending tasks run: uvicorn hands over every message
            # of a burst without waiting, and the outboxes would fill.
            await asyncio.sleep(0)


class Room:
    def __init__(self) -> None:
        self.members: set[Member] = set()

    def join(self, member: Member) -> None:
        self.members.add(member)
        self.broadcast(f"{member.name} joined")

    def leave(self, member: Member) -> None:
        self.members.discard(member)
        self.broadcast(f"{member.name} left")

    def broadcast(self, text: str) -> None:
        for member in self.members:
            member.deliver(text)


# --8<-- [end:room]


# --8<-- [start:auth]
# A stand-in for your real check, such as a short-lived, single-use ticket.
TOKENS = {"alice-token": "alice", "bob-token": "bob", "carol-token": "carol"}
# The sites whose pages may open the room. A browser sends the page's
# origin with every handshake, and CORS does not apply to WebSockets.
ALLOWED_ORIGINS = {"https://chat.example.com"}


async def member_name(
    token: str, origin: Annotated[str | None, Header()] = None
) -> str:
    """The name behind the `token` query parameter. Raised before
    `accept`, WebSocketException refuses the handshake itself."""
    # A client outside a browser sends no Origin (and could send any).
    if origin is not None and origin not in ALLOWED_ORIGINS:
        raise WebSocketException(POLICY_VIOLATION, reason="foreign origin")
    name = TOKENS.get(token)
    if name is None:
        raise WebSocketException(POLICY_VIOLATION, reason="unknown token")
    return name


# --8<-- [end:auth]


# --8<-- [start:endpoint]
class State(TypedDict):
    rooms: defaultdict[str, Room]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[State]:
    yield {"rooms": defaultdict(Room)}


app = FastAPI(lifespan=lifespan)


@app.websocket("/rooms/{room_name}")
async def chat(
    websocket: WebSocket,
    room_name: str,
    name: Annotated[str, Depends(member_name)],
) -> None:
    await websocket.accept()  # only once the token is known
    rooms: defaultdict[str, Room] = websocket.state.rooms
    room = rooms[room_name]
    member = Member(name, websocket)
    room.join(member)
    # Why the server closes, unless the client leaves first.
    closing: tuple[int, str] | None = (POLICY_VIOLATION, TOO_SLOW)
    try:
        async with asyncio.TaskGroup() as tasks:
            sending = tasks.create_task(member.send_queued())
            receiving = tasks.create_task(member.receive_into(room))
            await member.fell_behind.wait()
            sending.cancel()
            receiving.cancel()
    except* WebSocketDisconnect:
        closing = None  # the client closed, or its connection was lost
    except* BinaryMessage:
        closing = (UNSUPPORTED_DATA, NOT_TEXT)
    finally:
        room.leave(member)
        if not room.members:
            del rooms[room_name]
    if closing is not None:  # tell the client why, if it still reads at all
        with suppress(WebSocketDisconnect, TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await websocket.close(*closing)


# --8<-- [end:endpoint]
