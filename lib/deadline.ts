// Deadlines on network calls that a throttled CPU cannot trip. Lambda runs a handler at its
// memory's share of a vCPU (256 MB: 14.5 %): a plain timer there can fire while the answer it
// waits for already sits unread in the socket, because the process got no CPU to read it. This
// deadline counts time in short ticks, and a tick that fires late (the process was throttled or
// busy with its own work) counts as at most two ticks; when it runs out, the loop gets one more
// turn to read what has arrived before the call is given up. A call that hangs on an idle
// process still ends at the deadline.

const TICK_MS = 25;

/** Calls `onExpired` once `ms` of responsive time has passed; the returned function cancels it. */
export function startDeadline(ms: number, onExpired: () => void, now: () => number = () => performance.now()): () => void {
  let counted = 0;
  let last = now();
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const tick = () => {
    const at = now();
    counted += Math.min(at - last, 2 * TICK_MS);
    last = at;
    if (counted < ms) {
      timer = setTimeout(tick, Math.min(TICK_MS, ms - counted));
      return;
    }
    // One more turn of the loop (the poll phase runs before setImmediate's): an answer that
    // arrived while the process was starved is read before the call is abandoned.
    immediate = setImmediate(onExpired);
  };
  timer = setTimeout(tick, Math.min(TICK_MS, ms));
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}

/** An AbortSignal that aborts when the responsive deadline runs out; `done()` stops counting. */
export function deadlineSignal(ms: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const done = startDeadline(ms, () => controller.abort());
  return { signal: controller.signal, done };
}
