// docs/SECURITY.md's function × permission table against synthesized templates: the document
// says what the template grants, and the signing key's readers are exactly the functions that sign.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDeployments, permissionsTableMarkdown } from '../../infra/permissions.ts';
import { FUNCTIONS } from '../../lib/routes.ts';
import { withPermissionsTable } from '../../scripts/docs.ts';

const deployments = readDeployments();
const APP_SECRET = 'secret:app secret (the signing key)';

describe('what each function may touch', () => {
  it("docs/SECURITY.md's table is the one the templates give", () => {
    const security = readFileSync('docs/SECURITY.md', 'utf8');
    expect(withPermissionsTable(security, permissionsTableMarkdown(deployments))).toBe(security);
  });

  it('lets no function read the signing key unless it signs: never public-keys, reservations-api only when it ends meetings', () => {
    for (const { label, permissions } of deployments) {
      expect(permissions.get(FUNCTIONS.callerApi)?.has(APP_SECRET), label).toBe(true);
      expect(permissions.get(FUNCTIONS.reservationsApi)?.has(APP_SECRET), label).toBe(label === '`-c endMeetingUrl`');
      expect(permissions.get(FUNCTIONS.publicKeys)?.has(APP_SECRET) ?? false, label).toBe(false);
    }
    const rs256 = deployments.find((deployment) => deployment.label.includes('rs256'))!;
    // The unauthenticated function reads the published keys' partition and nothing else of the table.
    expect([...rs256.permissions.get(FUNCTIONS.publicKeys)!]).toEqual(['dynamodb:GetItem (partition KEYS only)']);
  });
});
