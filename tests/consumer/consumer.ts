// Type-checks a use of every export of the package (`tsc --noEmit`); it is not run.
import {
  ready, init, EventBuffer, parsePayload, toText, mergeActions, TidepoolError, PayloadError,
  type ActionsPayload, type SummaryPayload, type AnyPayload, type SlimAction, type EventBufferOptions,
  InMemoryEventLog, DisabledEventLog, createEventLog, activityHandler,
  type LogEvent, type EventLogBackend, type EventLogReadResult, type EventLogStats, type EventLogOptions,
  type EventLogQuery, type CreateEventLogOptions, type ActivityHandlerOptions, type ActivityPage,
} from 'tidepool';

async function eventLog(): Promise<void> {
  const options: EventLogOptions = { ttlSeconds: 60, maxEntries: 100, now: () => Date.now() / 1000 };
  const log = new InMemoryEventLog(options);
  const event: LogEvent = log.append('turn.started', { turn: 1 });
  const plain: LogEvent = log.append('tool.invoked');
  const query: EventLogQuery = { since: event.id, limit: null };
  const events: LogEvent[] = log.query(query);
  const page: EventLogReadResult = log.read({ since: 0 });
  const firstId: number | null = page.firstId;
  const stats: EventLogStats = log.stats();
  const bounds: number[] = [log.ttlSeconds, log.maxEntries, log.lastId, log.subscriberCount, log.clear()];
  const unsubscribe: () => void = log.subscribe((e: LogEvent) => void e.kind);
  unsubscribe();
  const factoryOptions: CreateEventLogOptions = { backend: 'off', maxEntries: 10 };
  const backends: EventLogBackend[] = [log, new DisabledEventLog(), createEventLog(factoryOptions), createEventLog()];
  for (const backend of backends) {
    const appended: LogEvent = await backend.append('x', { a: [1, 'b'] });
    const queried: LogEvent[] = await backend.query({ since: appended.id });
    await backend.clear();
    void queried;
  }
  const handlerOptions: ActivityHandlerOptions = { cors: 'https://canvas.example', heartbeatMs: 15_000 };
  const handle: (request: Request) => Promise<Response> = activityHandler(log, handlerOptions);
  const body = (await (await handle(new Request('http://x/activity'))).json()) as ActivityPage;
  const nextSince: number = body.next_since;
  void plain, events, firstId, stats, bounds, nextSince;
}
void eventLog;

async function main(): Promise<void> {
  await ready;
  await init();

  const options: EventBufferOptions<AnyPayload> = { maxSize: 10, onDrop: (p: AnyPayload) => void p.session_id };
  const buffer = new EventBuffer(options);
  const onActions = (callback: (payload: AnyPayload) => void): void => callback(parsePayload({ type: 'actions' }));
  onActions(buffer.add);
  const all: AnyPayload[] = buffer.drain();
  const summaries: AnyPayload[] = buffer.drainByType({ actions: false, summaries: true });
  const newest: AnyPayload[] = buffer.peek(5);
  const counts: number[] = [buffer.size, buffer.maxSize, buffer.droppedCount, buffer.clear()];
  const empty: boolean = buffer.isEmpty;

  const custom = new EventBuffer<{ kind: string }>({ maxSize: 0 });
  custom.add({ kind: 'x' });

  const parsed = parsePayload({ type: 'summary', summary: 's' });
  if (parsed.type === 'summary') {
    const s: SummaryPayload = parsed;
    const text: string = toText(s);
    void text;
  } else {
    const a: ActionsPayload = parsed;
    const first: SlimAction | undefined = a.actions[0];
    void first;
  }
  const merged: ActionsPayload = mergeActions([{ type: 'actions' }]);
  try {
    parsePayload(42);
  } catch (error) {
    if (error instanceof PayloadError) {
      const field: string = error.field;
      const code: 'INVALID_PAYLOAD' = error.code;
      void field, code;
    }
    if (error instanceof TidepoolError) void error.code;
  }
  void all, summaries, newest, counts, empty, merged;
}
void main;
