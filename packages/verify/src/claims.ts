/**
 * The per-call token's claims: the contract between toolgate (which mints them, see
 * src/credentials/minter.ts) and an upstream server (which checks them with this library).
 * Registered JWT claims keep their RFC meaning; the MCP binding uses short private names.
 */

/** Where the decision that allowed this call sits in toolgate's audit chain. */
export interface AuditRefClaim {
  /** The chain (one per gateway instance). */
  chain: string;
  /** The record's position in that chain. */
  pos: number;
  /** The record's leaf hash (hex or base64url, as the audit log writes it). */
  hash: string;
}

/** RFC 8693 `act`: the actor, with earlier actors nested inside it. */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

export interface PerCallClaims {
  iss: string;
  /** The one upstream this token is for. Always a single string, never a list. */
  aud: string;
  /** The human user the agent acts for, when there is one. */
  sub?: string;
  /** The agent, and inside it the toolgate instance that relayed the call. */
  act: ActorClaim;
  client_id: string;
  /** Space-separated: the least this upstream needs for this tool (from toolgate's config). */
  scope?: string;
  /** The MCP method this token allows: tools/call, prompts/get, resources/read, completion/complete. */
  mcp_method: string;
  /** The tool (or prompt name, or resource URI) as the upstream knows it. */
  tool: string;
  /** base64url SHA-256 of the RFC 8785 canonical form of the arguments. */
  args_sha256: string;
  /** toolgate's request id (also sent as x-request-id). */
  req_id: string;
  /** The client's MCP session at toolgate, when it has one. */
  sid?: string;
  /** W3C trace id (from traceparent), when the call carried one. */
  trace_id?: string;
  /** The instruction the call serves (the gateway's allow-listed baggage keys, e.g. `instruction.id`), when the call carried one. */
  instruction?: Record<string, string>;
  /** The audit record that allowed this call, once the audit log provides it. */
  audit?: AuditRefClaim;
  jti: string;
  iat: number;
  exp: number;
}

/** The JWT `typ` header of a per-call token, so it cannot be mistaken for an access token. */
export const PER_CALL_TOKEN_TYPE = 'toolgate-call+jwt';

/** The `_meta` key that carries the per-call credential on stdio, which has no headers. */
export const CREDENTIAL_META_KEY = 'io.toolgate/authorization';
