/**
 * oidc-provider ships no TypeScript types (and @types/oidc-provider lags v9); tests use it as
 * an untyped module. Shared by every test that runs a real authorization server.
 */
declare module 'oidc-provider';
