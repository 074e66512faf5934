// The platform's events, POSTed to one webhook URL and signed per Standard Webhooks
// (https://www.standardwebhooks.com): headers webhook-id, webhook-timestamp, webhook-signature,
// the signature an HMAC-SHA256 over "<id>.<timestamp>.<body>" keyed with the secret's bytes.
import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, type Logger } from './log.ts';

/** One event the platform receives (ids and times only; `data` holds no name or email). */
export interface PlatformEvent {
  /** Stable across re-sends of the same event, so receivers can dedupe (the webhook-id). */
  id: string;
  /** e.g. 'appointment.created', 'token.issued', 'participant.joined', 'session.completed'. */
  type: string;
  /** ISO 8601 UTC time the event happened. */
  time: string;
  data: Record<string, unknown>;
}

const SECRET_PREFIX = 'whsec_';
const MIN_SECRET_BYTES = 16;
const NEW_SECRET_BYTES = 24;
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A webhook-id goes into a header and the signed text: visible ASCII only, bounded. */
const EVENT_ID = /^[\x21-\x7e]{1,256}$/;

/** The HMAC key of a `whsec_<base64>` secret; the error never quotes the secret. */
function webhookKey(secret: string): Buffer {
  const encoded = typeof secret === 'string' && secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  const key = encoded !== undefined && CANONICAL_BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
  if (!key || key.length < MIN_SECRET_BYTES) {
    throw new TypeError(`webhook secret must be "${SECRET_PREFIX}" followed by standard base64 of at least ${MIN_SECRET_BYTES} bytes`);
  }
  return key;
}

function signWithKey(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`;
}

/** The JSON body the platform receives for an event: { type, timestamp: time, data } (Standard Webhooks' recommended payload shape). */
export function webhookBody(event: PlatformEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.time, data: event.data });
}

/** Standard Webhooks signature header value for a body. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  return signWithKey(webhookKey(secret), id, timestampSeconds, body);
}

/** A new random secret in the whsec_ format (24 random bytes). */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(NEW_SECRET_BYTES).toString('base64')}`;
}

export interface WebhookDelivererOptions {
  url: string;
  secret: string;
  logger: Logger;
  /** How many POSTs per event at most (default 4), with backoff between (default base 500 ms, doubling). */
  attempts?: number;
  backoffMs?: number;
  /** Per-attempt timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Seconds since the epoch (tests). */
  now?: () => number;
}

export interface WebhookDeliverer {
  /** Sends each event (in order), retrying 5xx, 429, 408 and network errors; never throws; resolves when done (delivered or given up). */
  deliver(events: readonly PlatformEvent[]): Promise<{ delivered: number; failed: number }>;
}

/** What one POST came to: delivered, worth another try, or refused for good. */
type AttemptResult = { outcome: 'delivered' | 'retry' | 'refused'; status?: number; reason?: string };

/** 408, 429 and 5xx may pass; any other status outside 2xx (a redirect included) is the receiver's answer. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function positiveInteger(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) throw new RangeError(`webhook ${name} must be an integer of at least ${minimum}`);
  return value;
}

export function createWebhookDeliverer(options: WebhookDelivererOptions): WebhookDeliverer {
  const key = webhookKey(options.secret);
  const { url, logger } = options;
  if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) throw new TypeError('webhook url must be an absolute http or https URL');
  const attempts = positiveInteger('attempts', options.attempts ?? 4, 1);
  const backoffMs = positiveInteger('backoffMs', options.backoffMs ?? 500, 0);
  const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 5_000, 1);
  const now = options.now ?? (() => Date.now() / 1000);

  async function post(id: string, body: string): Promise<AttemptResult> {
    // Signed afresh for each attempt: receivers refuse timestamps more than a few minutes old.
    const timestamp = Math.floor(now());
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWithKey(key, id, timestamp, body),
        },
        body,
        // A redirect would carry the signed event to a host nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The receiver's answer body is of no use; dropping it frees the connection.
      response.body?.cancel().catch(() => undefined);
      const { status } = response;
      if (status >= 200 && status < 300) return { outcome: 'delivered', status };
      return { outcome: isRetryableStatus(status) ? 'retry' : 'refused', status, reason: `status-${status}` };
    } catch (error) {
      return { outcome: 'retry', reason: describeError(error).errorName === 'TimeoutError' ? 'timeout' : 'network-error' };
    }
  }

  async function deliverOne(event: PlatformEvent): Promise<boolean> {
    const fields = { eventId: event.id, eventType: event.type };
    let body: string;
    try {
      if (!EVENT_ID.test(event.id)) throw new TypeError('event id');
      body = webhookBody(event);
    } catch {
      logger.warn('webhook-failed', { ...fields, attempts: 0, reason: 'invalid-event' });
      return false;
    }
    let result: AttemptResult = { outcome: 'retry' };
    let attempt = 0;
    while (attempt < attempts) {
      if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
      attempt++;
      result = await post(event.id, body);
      if (result.outcome !== 'retry') break;
    }
    if (result.outcome === 'delivered') {
      logger.info('webhook-delivered', { ...fields, status: result.status, attempts: attempt });
      return true;
    }
    logger.warn('webhook-failed', {
      ...fields,
      status: result.status,
      attempts: attempt,
      reason: result.outcome === 'refused' ? result.reason : `gave-up-${result.reason}`,
    });
    return false;
  }

  return {
    async deliver(events) {
      let delivered = 0;
      let failed = 0;
      for (const event of events) {
        // deliverOne catches what it expects; this keeps the promise to never throw.
        const ok = await deliverOne(event).catch(() => false);
        if (ok) delivered++;
        else failed++;
      }
      return { delivered, failed };
    },
  };
}
