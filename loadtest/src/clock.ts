/**
 * The generator's one clock for delays: CLOCK_MONOTONIC in milliseconds. It is
 * system-wide, so a send stamp taken on the main thread, an arrival stamp taken
 * on a receive thread and one taken in another generator process compare.
 * (performance.now() does not: each thread and process has its own origin.)
 */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;
