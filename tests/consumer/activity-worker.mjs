// A Cloudflare Worker serving the activity endpoint of the installed package (unbundled).
// /append?kind=&n= appends an event; /subscribers reports the log's open live tails; every
// other path is the endpoint. State lives in the isolate, created in the first handler call.
import { InMemoryEventLog, activityHandler } from './node_modules/tidepool/entry/workerd.js';

let log;
let handler;

export default {
  async fetch(request) {
    log ??= new InMemoryEventLog({ maxEntries: 1000 });
    handler ??= activityHandler(log, { heartbeatMs: 50, cors: 'https://canvas.example' });
    const url = new URL(request.url);
    if (url.pathname === '/append') {
      return Response.json(log.append(url.searchParams.get('kind'), { n: Number(url.searchParams.get('n')) }));
    }
    if (url.pathname === '/subscribers') return Response.json({ count: log.subscriberCount });
    return handler(request);
  },
};
