// Runs in every test worker: the service's JSON log lines go to a file for the log scan instead
// of the terminal; everything else passes through.
import { recordLogLines } from '../helpers/log-record.ts';

const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  if (text.startsWith('{"timestamp"')) {
    recordLogLines(text, 'worker');
    return true;
  }
  return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;
