/**
 * The Cedar schema, generated from the live catalog. One action per upstream tool
 * (`Action::"crm/write_contact"`), each a member of its kind group (`Action::"kind:write"`) and
 * its upstream group (`Action::"server:crm"`); `:` cannot occur in an upstream id, so group and
 * tool ids never clash. Prompts and resources share two actions, `get_prompt` and
 * `read_resource`, and are told apart by their resource entity (`Prompt`, `Resource`, each in its
 * `Server`). Each tool action has its own context type, with `arguments` typed from the tool's
 * inputSchema, so strict validation catches a policy that reads an argument the tool lacks.
 *
 * The schema must be given to Cedar on every evaluation: without it (or action entities with
 * parents) a rule on an action group silently matches nothing.
 */
import type { ToolKind } from './kinds.js';

export interface SchemaTool {
  upstream: string;
  name: string;
  kind: ToolKind;
  inputSchema: unknown;
}

type CedarType = Record<string, unknown>;

export const KINDS: ToolKind[] = ['read', 'write', 'delete'];
export const PROMPT_ACTION = 'get_prompt';
export const RESOURCE_ACTION = 'read_resource';

export const actionIdOf = (upstream: string, tool: string): string => `${upstream}/${tool}`;
export const kindGroup = (kind: ToolKind): string => `kind:${kind}`;
export const serverGroup = (upstream: string): string => `server:${upstream}`;

const STRING: CedarType = { type: 'String' };
const LONG: CedarType = { type: 'Long' };
const BOOL: CedarType = { type: 'Boolean' };
const record = (attributes: Record<string, CedarType>): CedarType => ({ type: 'Record', attributes });

/** Context shared by every action; tool actions add `arguments`. */
function commonContext(): Record<string, CedarType> {
  return {
    user: record({ present: BOOL, id: STRING, tenant: STRING }),
    scopes: { type: 'Set', element: STRING },
    tenant: STRING,
    time: record({ hour: LONG, minute: LONG, minuteOfDay: LONG, weekday: STRING }),
    session: record({ present: BOOL, id: STRING }),
    transport: record({ protocolVersion: STRING }),
  };
}

/**
 * JSON Schema → Cedar type, for what Cedar can hold exactly: strings, integers, booleans, sets
 * of those, and objects of them. Anything else (fractional numbers, null, unions) is left out of
 * the context, so no policy can depend on a value Cedar would misrepresent.
 */
export function cedarTypeOf(schema: unknown, depth = 0): CedarType | undefined {
  if (!schema || typeof schema !== 'object' || depth > 6) return undefined;
  const s = schema as Record<string, unknown>;
  switch (s.type) {
    case 'string':
      return STRING;
    case 'integer':
      return LONG;
    case 'boolean':
      return BOOL;
    case 'array': {
      const element = cedarTypeOf(s.items, depth + 1);
      return element ? { type: 'Set', element } : undefined;
    }
    case 'object':
      return record(argumentAttributes(s, depth + 1));
    default:
      return undefined;
  }
}

function argumentAttributes(schema: Record<string, unknown>, depth = 0): Record<string, CedarType> {
  const out: Record<string, CedarType> = {};
  const props = (schema.properties ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  for (const [name, sub] of Object.entries(props)) {
    const t = cedarTypeOf(sub, depth);
    if (t) out[name] = required.has(name) ? t : { ...t, required: false };
  }
  return out;
}

/**
 * Which argument values go into a tool's context: exactly the attributes its Cedar type has.
 * Top-level arguments are all optional to Cedar (policies test them with `has`), because the
 * list-time question "could this be allowed?" is asked before any arguments exist; the required
 * ones have already been enforced by argument validation when a call is decided.
 */
export function argumentShape(inputSchema: unknown): Record<string, CedarType> {
  if (!inputSchema || typeof inputSchema !== 'object') return {};
  const attrs = argumentAttributes(inputSchema as Record<string, unknown>);
  for (const name of Object.keys(attrs)) attrs[name] = { ...attrs[name], required: false };
  return attrs;
}

/** `upstreams`: every configured upstream, so `server:<id>` exists even while one is down. */
export function buildSchema(tools: SchemaTool[], upstreams: Iterable<string> = []): Record<string, unknown> {
  const actions: Record<string, unknown> = {};
  const servers = new Set([...upstreams, ...tools.map((t) => t.upstream)]);
  for (const k of KINDS) actions[kindGroup(k)] = {};
  for (const u of servers) actions[serverGroup(u)] = {};
  for (const t of tools) {
    actions[actionIdOf(t.upstream, t.name)] = {
      memberOf: [{ id: kindGroup(t.kind) }, { id: serverGroup(t.upstream) }],
      appliesTo: { principalTypes: ['Agent'], resourceTypes: ['Tool'], context: record({ ...commonContext(), arguments: record(argumentShape(t.inputSchema)) }) },
    };
  }
  actions[PROMPT_ACTION] = { memberOf: [{ id: kindGroup('read') }], appliesTo: { principalTypes: ['Agent'], resourceTypes: ['Prompt'], context: record(commonContext()) } };
  actions[RESOURCE_ACTION] = { memberOf: [{ id: kindGroup('read') }], appliesTo: { principalTypes: ['Agent'], resourceTypes: ['Resource'], context: record(commonContext()) } };
  const named = record({ upstream: STRING, name: STRING });
  return {
    '': {
      entityTypes: {
        Agent: { shape: record({ tenant: STRING, groups: { type: 'Set', element: STRING } }) },
        Server: {},
        Tool: { memberOfTypes: ['Server'], shape: record({ upstream: STRING, name: STRING, kind: STRING }) },
        Prompt: { memberOfTypes: ['Server'], shape: named },
        Resource: { memberOfTypes: ['Server'], shape: named },
      },
      actions,
    },
  };
}

/** The actions (tool actions and groups) each action is in, for slicing the policy set per action. */
export function actionAncestors(tools: SchemaTool[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const t of tools) m.set(actionIdOf(t.upstream, t.name), new Set([actionIdOf(t.upstream, t.name), kindGroup(t.kind), serverGroup(t.upstream)]));
  m.set(PROMPT_ACTION, new Set([PROMPT_ACTION, kindGroup('read')]));
  m.set(RESOURCE_ACTION, new Set([RESOURCE_ACTION, kindGroup('read')]));
  return m;
}
