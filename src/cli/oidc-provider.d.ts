/**
 * oidc-provider ships no TypeScript types (and @types/oidc-provider lags v9): the demo's
 * authorization server uses it as an untyped module, through the narrow interfaces it declares.
 */
declare module 'oidc-provider';
