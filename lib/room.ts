// Room names, appointment rooms and windows, join URLs: the rules of docs/JITSI.md, "Joining a room".
import { SETTINGS } from './config.ts';
import { AppointmentStateError, appointmentEnded, invalidField } from './errors.ts';
import { NOT_BEFORE_SKEW_SECONDS, SAFE_NAME_PATTERN, type TokenGrant } from './token.ts';

/** Only names that survive Jitsi's lowercasing and URL-encoding unchanged: refuse the rest, never rewrite. */
export const ROOM_NAME_PATTERN = SAFE_NAME_PATTERN;
export const ROOM_NAME_RULE = 'a room name of letters a-z or A-Z, digits, "_" or "-", starting with a letter or digit, at most 128 characters';
/** What a request may name: capitals too, since Jitsi compares rooms lowercased (the token gets the lowercase form). */
export const REQUESTED_ROOM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isSafeRoomName(name: string): boolean {
  return ROOM_NAME_PATTERN.test(name);
}

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) output += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return output;
}

/** `<prefix>-<26 base32 characters>`: 130 bits nobody can guess (random, or derived from a secret), holding no appointment id. */
export function appointmentRoomName(prefix: string, bits: Uint8Array): string {
  if (bits.length < 17) throw new RangeError('an appointment room needs at least 130 bits');
  return `${prefix}-${base32(bits).slice(0, 26)}`;
}

/** Names with the appointment prefix are reserved for the store: ad-hoc requests never get them. */
export const isAppointmentRoom = (room: string, prefix: string): boolean => room.startsWith(`${prefix}-`);

export interface AppointmentWindowRules {
  earlyJoinMinutes: number;
  graceMinutes: number;
}

export interface TimeWindow {
  /** Seconds since the epoch. */
  opensAt: number;
  closesAt: number;
}

/** From `start − early join` to `start + duration + grace`, in whole seconds. */
export function appointmentWindow(startMs: number, durationMinutes: number, rules: AppointmentWindowRules): TimeWindow {
  const startSeconds = Math.floor(startMs / 1000);
  return {
    opensAt: startSeconds - rules.earlyJoinMinutes * 60,
    closesAt: startSeconds + (durationMinutes + rules.graceMinutes) * 60,
  };
}

/** Appointments are booked at most this far ahead. */
export const MAX_APPOINTMENT_LEAD_DAYS = 366;

export interface AppointmentTokenRules extends AppointmentWindowRules {
  tokenTtlMaxSeconds: number;
}

/**
 * The window of an appointment being registered or moved: refused when it has ended, lies too
 * far ahead, or outlasts the longest token lifetime.
 */
export function plannedWindow(nowSeconds: number, startMs: number, durationMinutes: number, rules: AppointmentTokenRules): TimeWindow {
  const window = appointmentWindow(startMs, durationMinutes, rules);
  if (window.closesAt <= nowSeconds + 60) {
    throw new AppointmentStateError('ended', 'The appointment window (start + duration + grace) has already ended: book a new time.', 'scheduledStartTime');
  }
  if (startMs / 1000 > nowSeconds + MAX_APPOINTMENT_LEAD_DAYS * 86_400) {
    throw invalidField('scheduledStartTime', `must be at most ${MAX_APPOINTMENT_LEAD_DAYS} days ahead`);
  }
  const notBefore = Math.max(nowSeconds, window.opensAt) - NOT_BEFORE_SKEW_SECONDS;
  if (window.closesAt - notBefore > rules.tokenTtlMaxSeconds + NOT_BEFORE_SKEW_SECONDS) {
    throw invalidField(
      'durationMinutes',
      `the appointment window (early join + duration + grace) is longer than the longest token lifetime (${SETTINGS.tokenTtlMaxSeconds.variable})`,
    );
  }
  return window;
}

/**
 * Token times for an appointment's window: usable from its opening (or now, if it is already
 * open) until it closes, or for `lifetimeSeconds` from then when the request asks for less; never
 * past the close. An ended window gets none.
 */
export function appointmentTokenTimes(
  nowSeconds: number,
  window: TimeWindow,
  lifetimeSeconds?: number,
): Pick<TokenGrant, 'issuedAt' | 'notBefore' | 'expiresAt'> {
  if (window.closesAt <= nowSeconds) throw appointmentEnded();
  // Counted from when the token becomes usable, so a token asked for before the window opens is not dead on arrival.
  const usableFrom = Math.max(nowSeconds, window.opensAt);
  const expiresAt = lifetimeSeconds === undefined ? window.closesAt : Math.min(usableFrom + lifetimeSeconds, window.closesAt);
  return { issuedAt: nowSeconds, notBefore: usableFrom - NOT_BEFORE_SKEW_SECONDS, expiresAt };
}

/** `https://<domain>/<room>`, or `https://<domain>/<tenant>/<room>` for multi-tenant set-ups. */
export function buildJoinUrl(domain: string, room: string, tenant?: string): string {
  return tenant === undefined ? `https://${domain}/${room}` : `https://${domain}/${tenant}/${room}`;
}
