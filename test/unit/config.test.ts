import { createDeps } from '../../lib/deps.ts';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadLocalSettings, loadSettings } from '../../lib/config.ts';

const lambda = {
  AWS_LAMBDA_FUNCTION_NAME: 'fn',
  JITSI_APP_ID: 'app',
  JITSI_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-AbCdEf',
  APPOINTMENTS_TABLE: 'appointments',
};

describe('loadSettings', () => {
  it('works with no configuration at all, locally, with no secret source (the local server generates one) and warnings', () => {
    const settings = loadLocalSettings({});
    expect(settings).toMatchObject({
      runtime: 'local',
      jitsiDomain: 'meet.example.com',
      appId: 'local-dev-app',
      sub: 'meet.example.com',
      audience: 'local-dev-app',
      tokenTtlSeconds: 7200,
      tokenTtlMaxSeconds: 86_400,
      authMode: 'none',
      corsOrigins: [],
      port: 3001,
      secretRotationOverlapSeconds: 300,
      secretSource: { kind: 'none' },
    });
    expect(settings.warnings.join(' ')).toMatch(/JITSI_DOMAIN/);
    expect(settings.warnings.join(' ')).toMatch(/AUTH_MODE=none/);
  });

  it('reads every documented variable', () => {
    const settings = loadLocalSettings({
      JITSI_DOMAIN: 'meet.acme.org',
      JITSI_APP_ID: 'acme',
      JITSI_SUB: 'meet.jitsi',
      JITSI_AUDIENCE: 'jitsi',
      JITSI_GROUP: 'wellness',
      TOKEN_TTL_SECONDS: '600',
      TOKEN_TTL_MAX_SECONDS: '3600',
      AUTH_MODE: 'jwt',
      MODERATOR_CLAIM: 'roles',
      MODERATOR_VALUES: 'therapists, admins',
      CORS_ORIGINS: 'https://app.acme.org,http://localhost:5173',
      PORT: '8080',
      SECRET_ROTATION_OVERLAP_SECONDS: '0',
      JITSI_APP_SECRET: 's',
    });
    expect(settings).toMatchObject({
      jitsiDomain: 'meet.acme.org',
      appId: 'acme',
      sub: 'meet.jitsi',
      audience: 'jitsi',
      group: 'wellness',
      tokenTtlSeconds: 600,
      tokenTtlMaxSeconds: 3600,
      authMode: 'jwt',
      moderatorClaim: 'roles',
      moderatorValues: ['therapists', 'admins'],
      corsOrigins: ['https://app.acme.org', 'http://localhost:5173'],
      port: 8080,
      secretRotationOverlapSeconds: 0,
      secretSource: { kind: 'env', value: 's' },
    });
  });

  it.each([
    [{ JITSI_DOMAIN: 'https://meet.example.com' }, 'JITSI_DOMAIN'],
    [{ JITSI_SUB: '*' }, 'JITSI_SUB'],
    [{ TOKEN_TTL_SECONDS: '3600s' }, 'TOKEN_TTL_SECONDS'],
    [{ TOKEN_TTL_SECONDS: '59' }, 'TOKEN_TTL_SECONDS'],
    [{ TOKEN_TTL_SECONDS: '7200', TOKEN_TTL_MAX_SECONDS: '3600' }, 'TOKEN_TTL_SECONDS'],
    [{ AUTH_MODE: 'JWT' }, 'AUTH_MODE'],
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com/path' }, 'CORS_ORIGINS'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ MODERATOR_VALUES: ',' }, 'MODERATOR_VALUES'],
    [{ JITSI_SECRET_ARN: 'not an arn' }, 'JITSI_SECRET_ARN'],
    [{ SECRET_ROTATION_OVERLAP_SECONDS: '5m' }, 'SECRET_ROTATION_OVERLAP_SECONDS'],
    [{ SECRET_ROTATION_OVERLAP_SECONDS: '86401' }, 'SECRET_ROTATION_OVERLAP_SECONDS'],
  ])('names the variable and what it expects: %o', (env, variable) => {
    expect(() => loadLocalSettings(env)).toThrow(ConfigError);
    expect(() => loadLocalSettings(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('fails closed in Lambda: secret from Secrets Manager only, app id required, jwt by default', () => {
    expect(loadSettings(lambda)).toMatchObject({ runtime: 'lambda', authMode: 'jwt', corsOrigins: [], secretSource: { kind: 'secrets-manager' } });
    // A function that signs needs the secret; one that does not (public-keys) is deployed without it.
    const unnamed = loadSettings({ ...lambda, JITSI_SECRET_ARN: undefined });
    expect(() => createDeps(unnamed)).toThrow(/JITSI_SECRET_ARN is required in Lambda for a function that signs/);
    expect(createDeps(unnamed, { readsAppSecret: false }).settings.secretSource).toEqual({ kind: 'none' });
    expect(() => loadSettings({ ...lambda, JITSI_APP_SECRET: 'plain' })).toThrow(/JITSI_APP_SECRET is not honoured in Lambda/);
    expect(() => loadSettings({ ...lambda, JITSI_APP_ID: undefined })).toThrow(/JITSI_APP_ID is required/);
    expect(() => loadSettings({ ...lambda, APPOINTMENTS_TABLE: undefined })).toThrow(/APPOINTMENTS_TABLE is required in Lambda/);
  });

  it('honours the env secret under sam local, even when the template names a secret ARN', () => {
    expect(loadSettings({ ...lambda, AWS_SAM_LOCAL: 'true', JITSI_APP_SECRET: 'plain' }).secretSource).toEqual({ kind: 'env', value: 'plain' });
    expect(loadSettings({ ...lambda, AWS_SAM_LOCAL: 'true', JITSI_APP_SECRET: '' }).secretSource.kind).toBe('secrets-manager');
  });

  it('takes a store endpoint under sam local only: a deployed function refuses one, and an empty one is none', () => {
    expect(loadSettings({ ...lambda, AWS_SAM_LOCAL: 'true', APPOINTMENTS_ENDPOINT: 'http://host.docker.internal:8000' }).appointmentsEndpoint).toBe(
      'http://host.docker.internal:8000',
    );
    expect(() => loadSettings({ ...lambda, APPOINTMENTS_ENDPOINT: 'http://host.docker.internal:8000' })).toThrow(
      /APPOINTMENTS_ENDPOINT is honoured only under sam local/,
    );
    expect(loadSettings({ ...lambda, APPOINTMENTS_ENDPOINT: '' }).appointmentsEndpoint).toBeUndefined();
    expect(() => loadSettings({ ...lambda, AWS_SAM_LOCAL: 'true', APPOINTMENTS_ENDPOINT: 'file:///etc' })).toThrow(
      /APPOINTMENTS_ENDPOINT must be an http\(s\) endpoint/,
    );
  });

  it('serves the embedded store for sam local only where asked, and warns when that is every network', () => {
    expect(loadLocalSettings({}).localStorePort).toBeUndefined();
    expect(loadLocalSettings({ LOCAL_STORE_PORT: '8000', LOCAL_STORE_HOST: '172.17.0.1' })).toMatchObject({
      localStorePort: 8000,
      localStoreHost: '172.17.0.1',
    });
    expect(loadLocalSettings({ LOCAL_STORE_HOST: '0.0.0.0' }).warnings.join(' ')).toMatch(
      /LOCAL_STORE_HOST=0.0.0.0: the embedded store \(no authentication\) is reachable/,
    );
    expect(() => loadLocalSettings({ LOCAL_STORE_PORT: '70000' })).toThrow(/LOCAL_STORE_PORT/);
  });
});
