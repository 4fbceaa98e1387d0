// The workerd writer of the multi-runtime RedisEventLog test: POST /?key=&name=&count=&total=
// appends and reads as log_writer.mjs does; the gateway's URL and token come from env bindings.
import { RedisEventLog, RedisRestClient } from 'tidepool';
import { appendThenReadAll } from './log_load.mjs';

export default {
  async fetch(request, env) {
    const params = new URL(request.url).searchParams;
    const log = new RedisEventLog({ client: RedisRestClient.fromEnv(env), key: params.get('key') });
    const result = await appendThenReadAll(log, { name: params.get('name'), count: Number(params.get('count')), total: Number(params.get('total')) });
    return Response.json(result);
  },
};
