import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem, type KeyPath } from './errors.js';

export interface Position {
  line: number;
  column: number;
}

/** A parsed YAML file: its plain data, and where each key path was written (for messages). */
export interface YamlSource {
  data: unknown;
  positionOf(path: KeyPath): Position | undefined;
}

/**
 * Parses one YAML document. Syntax errors (including duplicate keys) are all reported at once,
 * each with its line and column, as ConfigError `ERR_CONFIG_YAML`.
 */
export function readYaml(text: string, source: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };

  if (doc.errors.length > 0) {
    const problems: ConfigProblem[] = doc.errors.map((error) => ({ path: [], message: `YAML: ${error.message}`, ...at(error.pos[0]) }));
    throw new ConfigError('ERR_CONFIG_YAML', source, problems);
  }

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // e.g. an alias bomb: more alias expansions than yaml allows.
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError('ERR_CONFIG_YAML', source, [{ path: [], message: `YAML: ${message}` }], { cause: error });
  }

  return {
    data,
    positionOf: (path) => {
      const offset = offsetOf(doc, path);
      return offset === undefined ? undefined : at(offset);
    },
  };
}

/**
 * Start offset of the deepest node on `path` that exists in the file: the value itself, or its
 * key when the value is empty, or the nearest written ancestor when the key is missing.
 */
function offsetOf(doc: Document, path: KeyPath): number | undefined {
  let node: unknown = doc.contents;
  let offset = startOf(node);
  for (const segment of path) {
    let next: unknown;
    let keyOffset: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      next = pair?.value;
      keyOffset = startOf(pair?.key);
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    } else {
      break;
    }
    const valueOffset = isScalar(next) && next.value === null ? undefined : startOf(next);
    if (valueOffset === undefined && keyOffset === undefined) break;
    offset = valueOffset ?? keyOffset;
    node = next;
  }
  return offset;
}

function startOf(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range === undefined || range === null ? undefined : range[0];
}
