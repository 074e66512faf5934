// Jitsi features per role, explicit on every token (docs/JITSI.md, "Moderator and features").

/** The feature keys Jitsi enforces from `context.features` (docs/JITSI.md, "Moderator and features"). */
export const JITSI_FEATURES = [
  'recording',
  'livestreaming',
  'transcription',
  'outbound-call',
  'file-upload',
  'send-groupchat',
  'create-polls',
  'screen-sharing',
] as const;
export type JitsiFeature = (typeof JITSI_FEATURES)[number];
export type FeatureSet = Readonly<Record<JitsiFeature, boolean>>;

/**
 * Every known feature, explicitly on or off: when `context.features` is present Jitsi allows
 * only the ones set to true, and without it a moderator may record.
 */
export function featureSet(enabled: readonly JitsiFeature[]): FeatureSet {
  return Object.freeze(Object.fromEntries(JITSI_FEATURES.map((feature) => [feature, enabled.includes(feature)])) as Record<JitsiFeature, boolean>);
}

/** Therapy calls are not recorded, streamed or transcribed unless a setting says so. */
export const DEFAULT_MODERATOR_FEATURES: readonly JitsiFeature[] = ['screen-sharing', 'send-groupchat', 'create-polls'];
export const DEFAULT_PARTICIPANT_FEATURES: readonly JitsiFeature[] = ['screen-sharing', 'send-groupchat'];

/** Reads a settings list such as "screen-sharing, send-groupchat" (or "none"); undefined if unknown keys. */
export function parseFeatureList(value: string): JitsiFeature[] | undefined {
  if (value.trim().toLowerCase() === 'none') return [];
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.every((item): item is JitsiFeature => (JITSI_FEATURES as readonly string[]).includes(item)) ? items : undefined;
}
