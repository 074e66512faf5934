// Issuing tokens: the one function every handler that hands out tokens calls. It fetches the
// signing key once, builds each token's claims, signs, and says where and until when it works.
import type { Settings } from './config.ts';
import type { Keyring } from './keyring.ts';
import { buildJoinUrl } from './room.ts';
import { buildJitsiClaims, isoFromSeconds, signJitsiToken, type JitsiUser, type TokenGrant } from './token.ts';

export interface TokenRequest {
  room: string;
  /** The tenant a request named; JITSI_TENANT's value applies when it names none. */
  tenant?: string | undefined;
  user: JitsiUser;
  moderator: boolean;
  times: Pick<TokenGrant, 'issuedAt' | 'notBefore' | 'expiresAt'>;
  appointmentVersion?: number | undefined;
  sessionStart?: number | undefined;
}

export interface IssuedToken {
  token: string;
  roomName: string;
  joinUrl: string;
  moderator: boolean;
  /** Seconds since the epoch. */
  notBefore: number;
  expiresAt: number;
}

type IssuerSettings = Pick<
  Settings,
  'appId' | 'audience' | 'sub' | 'group' | 'moderatorFeatures' | 'participantFeatures' | 'tokenEmail' | 'defaultTenant' | 'jitsiDomain'
>;

export async function issueTokens(keyring: Keyring, settings: IssuerSettings, requests: readonly TokenRequest[]): Promise<IssuedToken[]> {
  const { signingKey, kid } = await keyring.current();
  return requests.map((request) => {
    const tenant = request.tenant ?? settings.defaultTenant;
    const claims = buildJitsiClaims(
      {
        room: request.room,
        tenant,
        user: request.user,
        moderator: request.moderator,
        ...request.times,
        appointmentVersion: request.appointmentVersion,
        sessionStart: request.sessionStart,
      },
      settings,
    );
    return {
      token: signJitsiToken(claims, signingKey, kid),
      roomName: request.room,
      joinUrl: buildJoinUrl(settings.jitsiDomain, request.room, tenant),
      moderator: request.moderator,
      notBefore: request.times.notBefore,
      expiresAt: request.times.expiresAt,
    };
  });
}

/**
 * The body of a one-token answer (generate-token and refresh-token share it). `notBefore` is the
 * token's nbf: an appointment token asked for days ahead is valid only from then (Jitsi allows no
 * clock tolerance).
 */
export function tokenBody(issued: IssuedToken): Record<string, unknown> {
  return {
    token: issued.token,
    roomName: issued.roomName,
    joinUrl: issued.joinUrl,
    notBefore: isoFromSeconds(issued.notBefore),
    expiresAt: isoFromSeconds(issued.expiresAt),
    moderator: issued.moderator,
  };
}
