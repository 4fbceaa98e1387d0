// The shared part of the multi-runtime RedisEventLog test (tests/js/redis_runtimes.test.mjs),
// run in Node, Deno and workerd: append COUNT events `{ name, i }` a few per tick, then wait
// until every writer is done (lastId reaches TOTAL) and read the whole log.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function appendThenReadAll(log, { name, count, total, perTick = 5 }) {
  const appended = [];
  for (let i = 0; i < count; i += perTick) {
    const tick = [];
    for (let j = i; j < Math.min(i + perTick, count); j++) tick.push(log.append('load', { name, i: j }));
    for (const event of await Promise.all(tick)) appended.push(event.id);
  }
  let page;
  for (let attempt = 0; attempt < 1200; attempt++) {
    page = await log.read({ since: 0, limit: -1 });
    if (page.lastId >= total) break;
    await sleep(50);
  }
  return { appended, seen: page.events.map((e) => [e.id, e.payload.name, e.payload.i, e.timestamp]) };
}
