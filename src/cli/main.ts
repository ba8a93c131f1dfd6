#!/usr/bin/env node
import { VERSION } from '../version.js';
import { runAudit } from './audit.js';
import { runDemo } from './demo.js';
import { runKeys } from './keys.js';
import { runPolicy } from './policy.js';
import { runReport } from './report.js';
import { runServe } from './serve.js';
import { runToken } from './token.js';
import { runTools } from './tools.js';

const USAGE = `toolgate — an authorization gateway for MCP

Usage:
  toolgate demo                      start example CRM and HR servers and the gateway on http://127.0.0.1:7420/mcp
  toolgate serve --config FILE       run the gateway with a YAML config (see docs/config.md)
  toolgate token --agent ID [--user ID] [--scope "a b"]   print a development-issuer token the demo gateway accepts
  toolgate keys rotate|jwks [--config FILE]   rotate the per-call token signing key (old key kept for the overlap) or print the JWKS
  toolgate audit verify|query|export [--config FILE]   check the audit log (or --bundle DIR offline), search it, export an evidence bundle
  toolgate audit trace ID|--instruction ID, show RECORD [--config FILE]   the calls one trace or instruction caused; one record back to its call
  toolgate policy validate|test FILE|explain --config FILE   check the Cedar policies against the live catalog, run a test table, explain one decision
  toolgate policy suggest|shadow|promote --config FILE   a minimal policy set from observed calls, its disagreements in shadow mode, enforce it
  toolgate report usage|scopes --config FILE [--since T] [--until T]   tools granted vs used per agent (--by, --json, --html FILE); scopes allowed calls needed
  toolgate tools list|approve --config FILE   show tool-definition pins, approve changed or new tool definitions
  toolgate help                      this text
  toolgate --version                 the version of toolgate

Every command takes --help (or -h) and prints its options.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'demo':
      return runDemo(rest);
    case 'keys':
      return runKeys(rest);
    case 'token':
      return runToken(rest);
    case 'audit':
      return runAudit(rest);
    case 'policy':
      return runPolicy(rest);
    case 'report':
      return runReport(rest);
    case 'tools':
      return runTools(rest);
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
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
