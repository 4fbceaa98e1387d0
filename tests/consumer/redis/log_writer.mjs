// One writer of the multi-runtime RedisEventLog test, run as a process by Node and by Deno:
// env UPSTASH_REDIS_REST_URL / _TOKEN, LOG_KEY, NAME, COUNT, TOTAL. Prints the result JSON.
import { RedisEventLog, RedisRestClient } from 'tidepool';
import { appendThenReadAll } from './log_load.mjs';

const env = (name) => (globalThis.Deno ? Deno.env.get(name) : process.env[name]);
const log = new RedisEventLog({ client: RedisRestClient.fromEnv(), key: env('LOG_KEY') });
const result = await appendThenReadAll(log, { name: env('NAME'), count: Number(env('COUNT')), total: Number(env('TOTAL')) });
console.log(JSON.stringify(result));
