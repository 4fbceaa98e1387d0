// Type-checks a use of every export of the package (`tsc --noEmit`); it is not run.
import {
  ready, init, EventBuffer, parsePayload, toText, mergeActions, TidepoolError, PayloadError,
  type ActionsPayload, type SummaryPayload, type AnyPayload, type SlimAction, type EventBufferOptions,
} from 'tidepool';

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
