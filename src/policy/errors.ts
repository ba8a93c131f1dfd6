/** A policy file or set that cannot be put in force. `where` is `file:line:column`. */
export class PolicyLoadError extends Error {
  constructor(
    readonly code: 'ERR_POLICY_READ' | 'ERR_POLICY_PARSE' | 'ERR_POLICY_INVALID' | 'ERR_POLICY_DUPLICATE_ID' | 'ERR_POLICY_EMPTY',
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = 'PolicyLoadError';
  }
}
