import { ToolgateError } from '../errors.js';

export type PolicyLoadErrorCode = 'ERR_POLICY_READ' | 'ERR_POLICY_PARSE' | 'ERR_POLICY_INVALID' | 'ERR_POLICY_DUPLICATE_ID' | 'ERR_POLICY_EMPTY';

/** A policy file or set that cannot be put in force. `where` is `file:line:column`. */
export class PolicyLoadError extends ToolgateError {
  declare readonly code: PolicyLoadErrorCode;

  constructor(
    code: PolicyLoadErrorCode,
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(code, `${file}:${line}:${column}: ${reason}`);
  }
}
