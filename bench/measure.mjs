// Timing helpers for the benchmarks: candidate and baseline alternate round by round in one
// process, and each reports its median, so drift on a noisy machine hits both alike.

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Times `candidate` and `baseline` alternately (after a warm-up); medians in ms. */
export function timeRounds({ candidate, baseline }, rounds = 7) {
  candidate();
  baseline();
  const times = { candidate: [], baseline: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of [['candidate', candidate], ['baseline', baseline]]) {
      globalThis.gc?.();
      const start = performance.now();
      fn();
      times[name].push(performance.now() - start);
    }
  }
  return { candidate: median(times.candidate), baseline: median(times.baseline) };
}
