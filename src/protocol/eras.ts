/**
 * Protocol eras. The 2025 eras share one machinery (initialize handshake, Mcp-Session-Id,
 * SSE streams); 2026-07-28 is stateless (per-request _meta, server/discover).
 * The era is negotiated separately with each client and with each upstream.
 */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
export const LATEST_LEGACY_VERSION = '2025-11-25';

export type LegacyVersion = (typeof LEGACY_VERSIONS)[number];

/** The version we answer an initialize with: the client's if we speak it, else our latest legacy one. */
export function negotiateLegacyVersion(requested: unknown): LegacyVersion {
  return (LEGACY_VERSIONS as readonly string[]).includes(requested as string) ? (requested as LegacyVersion) : LATEST_LEGACY_VERSION;
}

export function isLegacyVersion(v: string): v is LegacyVersion {
  return (LEGACY_VERSIONS as readonly string[]).includes(v);
}
