/**
 * Assembles the policy layer from the `policy:` config for the gateway: the Cedar stage, the
 * argument validator, the pin store, and the watchers that reload them. One entry point, so
 * src/gateway.ts only wires it in.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import { PinStore } from '../catalog/pinning.js';
import type { Logger } from '../log.js';
import type { AuditSink } from '../pipeline/stages.js';
import { ArgumentValidator } from './arguments.js';
import type { Clock } from './clock.js';
import type { PolicySettings } from './settings.js';
import { CedarPolicyStage, type PolicyStatus } from './stage.js';
import { watchPolicies } from './watch.js';

export interface PolicyRuntime {
  stage: CedarPolicyStage;
  arguments: ArgumentValidator;
  status(): PolicyStatus;
  close(): void;
}

/** Throws PolicyLoadError (file, line, reason) or PinStoreError when the start-up set cannot be put in force. */
export function startPolicy(settings: PolicySettings, deps: { catalog: Catalog; clock: Clock; audit: AuditSink; logger: Logger; upstreams: string[] }): PolicyRuntime {
  let pins: PinStore | undefined;
  if (settings.pinning) {
    mkdirSync(dirname(settings.pinning.store), { recursive: true });
    pins = new PinStore(settings.pinning.store);
  }
  const stage = new CedarPolicyStage(settings, { ...deps, ...(pins ? { pins } : {}) });
  stage.load();
  deps.logger.log('info', `policy: ${stage.status().policies} policies in force (${stage.status().policySetHash}), time zone ${settings.timeZone}`);
  const watched = [...settings.files, ...settings.shadowFiles, ...(settings.pinning ? [settings.pinning.store] : [])];
  const stop = watchPolicies(watched, () => stage.reload());
  return { stage, arguments: new ArgumentValidator(settings.maxArgumentBytes), status: () => stage.status(), close: stop };
}
