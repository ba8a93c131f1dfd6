#!/usr/bin/env node
import { runDemo } from './demo.js';
import { runServe } from './serve.js';

const USAGE = `toolgate — an authorization gateway for MCP

Usage:
  toolgate demo                      start example CRM and HR servers and the gateway on http://127.0.0.1:7420/mcp
  toolgate serve --config FILE       run the gateway with a YAML config (see docs/config.md)
  toolgate help                      this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'demo':
      return runDemo(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`toolgate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`toolgate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
