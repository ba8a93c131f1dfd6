/**
 * The three kinds of item an MCP server offers, and everything the gateway keys on them: how a
 * client lists them (method, result field), how the catalog keeps them, what policy calls them,
 * which server capability announces them, and how one is used. Resource templates are listed
 * like an item kind of their own but are resources to policy and are used by reading a resource.
 */

/** How the merged catalog keeps listed items. */
export type CatalogKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

/** What policy (and visibility) calls an item. */
export type VisibilityKind = 'tool' | 'prompt' | 'resource';

export interface ItemKind {
  /** The list method (`tools/list`). */
  list: string;
  catalog: CatalogKind;
  /** The field of the list result that holds the items. */
  field: string;
  visibility: VisibilityKind;
  /** The server capability that says the server offers them. */
  capability: 'tools' | 'prompts' | 'resources';
  /** The method that uses one item. */
  use: 'tools/call' | 'prompts/get' | 'resources/read';
}

export const TOOLS: ItemKind = { list: 'tools/list', catalog: 'tools', field: 'tools', visibility: 'tool', capability: 'tools', use: 'tools/call' };
export const PROMPTS: ItemKind = { list: 'prompts/list', catalog: 'prompts', field: 'prompts', visibility: 'prompt', capability: 'prompts', use: 'prompts/get' };
export const RESOURCES: ItemKind = { list: 'resources/list', catalog: 'resources', field: 'resources', visibility: 'resource', capability: 'resources', use: 'resources/read' };
export const RESOURCE_TEMPLATES: ItemKind = {
  list: 'resources/templates/list',
  catalog: 'resourceTemplates',
  field: 'resourceTemplates',
  visibility: 'resource',
  capability: 'resources',
  use: 'resources/read',
};

/** Every kind, in the order upstreams are listed. */
export const ITEM_KINDS: readonly ItemKind[] = [TOOLS, PROMPTS, RESOURCES, RESOURCE_TEMPLATES];

/** The kind a list method lists; undefined for any other method. */
export function listedBy(method: string): ItemKind | undefined {
  switch (method) {
    case 'tools/list':
      return TOOLS;
    case 'prompts/list':
      return PROMPTS;
    case 'resources/list':
      return RESOURCES;
    case 'resources/templates/list':
      return RESOURCE_TEMPLATES;
    default:
      return undefined;
  }
}
