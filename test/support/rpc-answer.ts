/**
 * A JSON-RPC answer as the tests read it. An answer carries `result` or `error`; each test asserts
 * on the one it expects, so both are typed as present (reading the other one fails the test).
 */
export interface RpcAnswer {
  jsonrpc: '2.0';
  id?: number | string | null;
  result: RpcResult;
  error: RpcError;
}

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** The result fields the tests look at (tools/list, prompts/list, resources/list, tools/call, initialize, server/discover). */
export interface RpcResult {
  [key: string]: unknown;
  tools: unknown[];
  prompts: unknown[];
  resources: unknown[];
  content: Array<{ type: string; text: string }>;
  isError?: boolean;
  protocolVersion: string;
  supportedVersions: string[];
  resultType: string;
  cacheScope: string;
  _meta: { 'io.modelcontextprotocol/serverInfo': { name: string; version: string } };
}

/** An answer over HTTP: the status and the parsed JSON-RPC message. */
export interface HttpRpcAnswer {
  status: number;
  body: RpcAnswer;
}
