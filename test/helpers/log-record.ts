// Where the suite's log lines are kept for the log scan (test/setup/log-scan.ts).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOG_DIR = resolve(import.meta.dirname, '../../test-artifacts/logs');

/** Keeps log lines a child process printed, so the scan covers them too. */
export function recordLogLines(text: string, source: string): void {
  const lines = text.split('\n').filter((line) => line.startsWith('{'));
  if (lines.length === 0) return;
  mkdirSync(LOG_DIR, { recursive: true });
  appendFileSync(join(LOG_DIR, `${source}-${process.pid}.jsonl`), `${lines.join('\n')}\n`);
}
