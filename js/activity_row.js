// Positions in the rows of numbers the ActivityBuffer core answers with: the layout `ROW` of
// src/wasm/activity.rs, which tests/js/activity_row.test.mjs checks this against.
export const ROW = Object.freeze({ slot: 0, outgoing: 1, tsMs: 2, ackStage: 3, errorCode: 4, state: 5, hasNote: 6, length: 7 });
