// Structured JSON logs, one line per event. Callers pass only non-personal fields (ids of
// requests, routes, statuses, reason codes); anything shaped like a JWT is scrubbed anyway.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/g;

const SEVERITY: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  service = 'jitsi-token-api',
  /** Lines less severe than this are not written (LOG_LEVEL). */
  minimum: LogLevel = 'info',
): Logger {
  const serviceJson = JSON.stringify(service);
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (SEVERITY[level] < SEVERITY[minimum]) return;
    // Concatenated rather than spread into one object: this runs on every request.
    const rest = JSON.stringify(fields);
    const line = `{"timestamp":"${new Date().toISOString()}","level":"${level}","service":${serviceJson},"message":${JSON.stringify(message)}${rest === '{}' ? '}' : `,${rest.slice(1)}`}`;
    write(line.includes('eyJ') ? line.replace(JWT_LIKE, '[redacted-token]') : line);
  };
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** An error's class and our own stack frames, never its message (library messages can quote input). */
export function describeError(error: unknown): { errorName: string; stack?: string } {
  if (!(error instanceof Error)) return { errorName: typeof error };
  const frames = error.stack
    ?.split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, 8)
    .join('\n');
  return frames ? { errorName: error.name, stack: frames } : { errorName: error.name };
}
