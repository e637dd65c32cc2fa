from fastapi.testclient import TestClient
from httpx import AsyncClient
from main import app

client = TestClient(app)


async def test_async_endpoint():
    async with AsyncClient(app=app, base_url="http://test") as ac:
        response = await ac.get("/async-endpoint")
    assert response.status_code == 200
    assert response.json() == {"message": "This is an async response!"}
