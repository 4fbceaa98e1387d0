// The ConnectorClient smoke run shared by every runtime (tests/js/connector_runtimes.test.mjs):
// reads the local test connector at `url` into an EventBuffer until its 204, and returns what
// arrived and the client's stats. The connector sends 6 events over 2 connections, so the run
// also covers a normal end of stream and a resume with Last-Event-ID.
export async function connectorSmoke(tp, url, token) {
  const buffer = new tp.EventBuffer();
  let tokenCalls = 0;
  const client = new tp.ConnectorClient({
    url,
    token: async () => {
      tokenCalls += 1;
      return token;
    },
    initialBackoffMs: 10,
    maxRetries: 3,
  });
  client.onActions(buffer.add).onSummary(buffer.add);
  await client.run();
  const payloads = buffer.drain();
  return {
    forwardedAt: payloads.map((p) => p.forwarded_at),
    descriptions: payloads.filter((p) => p.type === 'actions').map((p) => p.actions[0].description),
    tokenCalls,
    lastEventId: client.lastEventId,
    stats: client.stats(),
  };
}
