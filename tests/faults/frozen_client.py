"""A room client in a process of its own, for the test to freeze with SIGSTOP:
`python -m tests.faults.frozen_client <url> <origin> <cookie>`. It prints `ready` once
it has its hello, then reads (and answers the server's pings) until it is stopped."""

from __future__ import annotations

import asyncio
import json
import sys


async def main(url: str, origin: str, cookie: str) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, origin=origin, additional_headers={"Cookie": cookie}, ping_interval=None) as ws:
        hello = json.loads(await ws.recv())
        print("ready" if hello.get("type") == "hello" else f"refused {hello}", flush=True)
        async for _frame in ws:
            pass


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
