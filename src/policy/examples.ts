import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * examples/policies in the repository, from source (src/policy → ../../examples) or from the
 * build (dist/src/policy → ../../../examples: tsc does not copy .cedar files into dist).
 */
export function examplePoliciesDir(): string {
  for (const rel of ['../../examples/policies/', '../../../examples/policies/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}crm.cedar`)) return dir;
  }
  throw new Error('examples/policies not found next to this installation');
}
