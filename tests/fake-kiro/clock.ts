/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one
 * machine (two processes here agreed within ~0.01 ms): the fake's chat timing reports use it, and
 * bench/lib/stream-latency.ts compares them with the bench client's own readings.
 */
export const wallMs = (): number => performance.timeOrigin + performance.now();
