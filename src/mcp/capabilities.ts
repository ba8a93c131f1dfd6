/**
 * What the gateway offers its clients. It answers these itself (lists, log level,
 * subscriptions) or routes them to the upstream that owns the name, so they hold whatever
 * the upstreams offer; a method no upstream supports answers with that upstream's error.
 */
export const LEGACY_CAPABILITIES = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  logging: {},
  completions: {},
};

/** 2026-07-28: no sessions, so no subscriptions or list_changed until subscriptions/listen lands. */
export const MODERN_CAPABILITIES = {
  tools: {},
  prompts: {},
  resources: {},
  logging: {},
  completions: {},
};
