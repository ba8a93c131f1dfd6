/** One upstream in a benchmark gateway config. */
export type BenchUpstream = { id: string; url: string } | { id: string; command: string; args: string[] };

/**
 * The gateway config for a benchmark: loopback on an ephemeral port, the given upstreams, and
 * the pipeline stages' sections (pipeline-stages.ts; `listener` keys are added to the listener).
 * Strings are written as JSON, which YAML reads as quoted scalars.
 */
export function gatewayYaml(upstreams: BenchUpstream[], sections: Record<string, Record<string, unknown>> = {}): string {
  const { listener, ...rest } = sections;
  const lines = ['listener:', '  port: 0'];
  for (const [key, value] of Object.entries(listener ?? {})) lines.push(`  ${key}: ${JSON.stringify(value)}`);
  for (const [key, value] of Object.entries(rest)) lines.push(`${key}: ${JSON.stringify(value)}`);
  lines.push('upstreams:');
  for (const u of upstreams) {
    lines.push(`  - id: ${JSON.stringify(u.id)}`);
    if ('url' in u) {
      lines.push(`    url: ${JSON.stringify(u.url)}`);
    } else {
      lines.push(`    command: ${JSON.stringify(u.command)}`, `    args: ${JSON.stringify(u.args)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
