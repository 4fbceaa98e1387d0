"""The autoplay Python SDK's RedisEventBuffer, driven from the interop tests.

    python autoplay_redis.py add REDIS_URL PREFIX      < payloads.json   adds each payload (JSON list)
    python autoplay_redis.py drain REDIS_URL PREFIX                      prints the drained payloads (JSON list)
    python autoplay_redis.py writer REDIS_URL PREFIX N                   adds N summaries "py-0".."py-{N-1}", yielding between adds
    python autoplay_redis.py bench REDIS_URL PREFIX N CONCURRENCY        adds N payloads from CONCURRENCY tasks; prints adds/s
    python autoplay_redis.py encode                    < payloads.json   prints the SDK's member JSON of each payload

Payloads are printed with dataclasses.asdict, so every field the SDK keeps is compared.
"""
import asyncio
import dataclasses
import json
import sys
import time

from autoplay_sdk import ActionsPayload, SummaryPayload
from autoplay_sdk.buffer import RedisEventBuffer, _payload_to_json


def typed(data):
    return ActionsPayload.from_dict(data) if data.get("type") == "actions" else SummaryPayload.from_dict(data)


def plain(payload):
    data = dataclasses.asdict(payload)
    data["type"] = "actions" if isinstance(payload, ActionsPayload) else "summary"
    return data


async def main(argv):
    command = argv[0]
    if command == "encode":
        print(json.dumps([_payload_to_json(typed(p)) for p in json.load(sys.stdin)]))
        return
    url, prefix = argv[1], argv[2]
    dropped = []
    buffer = RedisEventBuffer(url, key_prefix=prefix, on_drop=dropped.append)
    if command == "add":
        for payload in json.load(sys.stdin):
            await buffer.add(typed(payload))
        print(json.dumps({"dropped": len(dropped)}))
    elif command == "drain":
        print(json.dumps([plain(p) for p in await buffer.drain()]))
    elif command == "writer":
        for i in range(int(argv[3])):
            await buffer.add(SummaryPayload(product_id="py", session_id=f"py-s{i % 3}", summary=f"py-{i}", replaces=0, forwarded_at=0))
            await asyncio.sleep(0)
        print(json.dumps({"dropped": len(dropped)}))
    elif command == "bench":
        count, concurrency = int(argv[3]), int(argv[4])
        payload = SummaryPayload(product_id="bench", session_id="s", summary="x" * 64, replaces=0, forwarded_at=0)
        await buffer.add(payload)  # connect first
        async def worker(n):
            for _ in range(n):
                await buffer.add(payload)
        started = time.perf_counter()
        await asyncio.gather(*(worker(count // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        print(json.dumps({"adds": count // concurrency * concurrency, "seconds": elapsed, "dropped": len(dropped)}))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
