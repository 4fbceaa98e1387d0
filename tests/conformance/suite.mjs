// Behaviour checks that run unchanged in every runtime (Node, Deno, workerd, Chromium, a Vite
// build): each runtime's harness imports the installed package, calls `runConformance`, and the
// Node test that started it asserts that every check passed. Each core has its own file of checks.
import { eventBufferChecks } from './event_buffer.mjs';
import { eventLogChecks } from './event_log.mjs';
import { activityChecks } from './activity.mjs';

const checks = { ...eventBufferChecks, ...eventLogChecks, ...activityChecks };

/** Runs every check against the package namespace `tp`; never throws. */
export async function runConformance(tp) {
  const results = [];
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check(tp);
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: `${error?.name}: ${error?.message}` });
    }
  }
  return results;
}

export const conformanceCheckCount = Object.keys(checks).length;
