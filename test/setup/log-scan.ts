// After the whole suite: every log line the service wrote (in-process and child processes) is
// scanned for secrets, tokens, names and emails. Any hit fails the run.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR } from '../helpers/log-record.ts';
import { EMAIL_PATTERN, JWT_PATTERN, NAMES_USED_IN_TESTS, SECRETS_USED_IN_TESTS } from '../helpers/pii.ts';

export function setup(): () => void {
  rmSync(LOG_DIR, { recursive: true, force: true });
  return () => {
    const lines = !existsSync(LOG_DIR) ? [] : readdirSync(LOG_DIR).flatMap((file) => readFileSync(join(LOG_DIR, file), 'utf8').split('\n').filter(Boolean));
    const findings: string[] = [];
    for (const [index, line] of lines.entries()) {
      for (const secret of SECRETS_USED_IN_TESTS) if (line.includes(secret)) findings.push(`line ${index}: a secret`);
      for (const name of NAMES_USED_IN_TESTS) if (line.includes(name)) findings.push(`line ${index}: the name "${name}"`);
      if (EMAIL_PATTERN.test(line)) findings.push(`line ${index}: an email address`);
      if (JWT_PATTERN.test(line)) findings.push(`line ${index}: a token`);
      try {
        JSON.parse(line);
      } catch {
        findings.push(`line ${index}: not JSON`);
      }
    }
    process.stdout.write(`\nlog scan: ${lines.length} log lines scanned, ${findings.length} secrets/tokens/names/emails found\n`);
    if (findings.length > 0) {
      // vitest reports a teardown error but keeps exit code 0; the exit code must say it failed.
      process.exitCode = 1;
      throw new Error(`log scan found personal data or credentials in logs:\n${findings.slice(0, 20).join('\n')}`);
    }
  };
}
