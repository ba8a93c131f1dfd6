/**
 * `toolgate/verify`: the per-call token verifier for MCP servers behind toolgate, kept as an
 * export of this package for servers that already import it from here. The library itself is
 * the separate, light package `@toolgate/verify` (no native modules, no MCP SDKs).
 */
export * from '@toolgate/verify';
