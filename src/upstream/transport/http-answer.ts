import { ErrorCode, errorResponse, isErrorResponse, isResponse, type JsonRpcId } from '../../protocol/jsonrpc.js';
import { ACCEPT_SSE, describeCause, invalidAnswer, mediaType, messageTooLarge, parseMessage, type ResponseData, readCapped, readWithin } from './http-body.js';
import { isSessionRejection } from './http-session.js';
import { consume, followRequestStream, newStream, type StreamOwner } from './http-stream.js';
import { type Flow, UpstreamTransportError } from './transport.js';

/*
 * What an upstream's answer to a POST becomes. A 2xx accepts the message: send() resolves and
 * the body is read in the background. Anything else refuses it: a request gets an error
 * response, other messages make send() reject — and a refused session makes send() reject for
 * requests too, since those may be sent again (http-session.ts).
 */

const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * Reads a 2xx answer to a POST: an SSE stream (followed, and resumed for a request), a JSON body
 * (within maxMessageBytes, parsed once), or nothing (202). A request whose answer is none of
 * these, or whose body broke off, gets a -32010 "sent an invalid response". Never rejects.
 */
export async function readAnswer(owner: StreamOwner, res: ResponseData, requestId: JsonRpcId | undefined, signal: AbortSignal, flow?: Flow): Promise<void> {
  try {
    await readBody(owner, res, requestId, signal, flow);
  } catch (err) {
    if (signal.aborted) return;
    owner.report('response body failed', err);
    if (requestId !== undefined) owner.deliver(invalidAnswer(owner.upstreamId, requestId, `the body broke off (${describeCause(err)})`), requestId);
  }
}

async function readBody(owner: StreamOwner, res: ResponseData, requestId: JsonRpcId | undefined, signal: AbortSignal, flow: Flow | undefined): Promise<void> {
  const type = mediaType(res);
  if (res.statusCode !== 202 && type === ACCEPT_SSE) {
    return requestId === undefined ? consume(owner, res.body, newStream(undefined, signal)) : followRequestStream(owner, res.body, newStream(requestId, signal, flow));
  }
  if (res.statusCode !== 202 && type === 'application/json') return readJson(owner, res, requestId);
  if (requestId !== undefined && res.statusCode !== 202) {
    owner.deliver(invalidAnswer(owner.upstreamId, requestId, `content type ${JSON.stringify(type || 'none')} with HTTP ${res.statusCode}`), requestId);
  }
  return res.body.dump();
}

async function readJson(owner: StreamOwner, res: ResponseData, requestId: JsonRpcId | undefined): Promise<void> {
  const text = await readWithin(res, owner.maxMessageBytes);
  if (text === undefined) {
    owner.report(`sent a JSON body larger than the limit of ${owner.maxMessageBytes} bytes (maxMessageBytes); it was discarded`);
    if (requestId !== undefined) owner.deliver(messageTooLarge(owner.upstreamId, requestId, owner.maxMessageBytes), requestId);
    return;
  }
  const message = parseMessage(text);
  if ('invalid' in message) {
    owner.report(`sent an invalid response: ${message.invalid}`);
    if (requestId !== undefined) owner.deliver(invalidAnswer(owner.upstreamId, requestId, message.invalid), requestId);
    return;
  }
  owner.deliver(message, requestId);
  if (requestId !== undefined && !(isResponse(message) && message.id === requestId)) {
    owner.deliver(invalidAnswer(owner.upstreamId, requestId, 'the JSON body was not the response to the request'), requestId);
  }
}

/** Reads a non-2xx answer to a POST; `carriedSession`: the POST had `Mcp-Session-Id`. */
export async function readRefusal(owner: StreamOwner, res: ResponseData, requestId: JsonRpcId | undefined, carriedSession: boolean): Promise<void> {
  const status = res.statusCode;
  const text = await readCapped(res.body, ERROR_BODY_LIMIT).catch(() => '');
  const fromBody = parseMessage(text);
  const serverError = !('invalid' in fromBody) && isErrorResponse(fromBody) ? fromBody : undefined;
  if (carriedSession && isSessionRejection(status)) {
    const to = requestId === undefined ? 'a message' : `request ${JSON.stringify(requestId)}`;
    throw owner.loseSession(status, `to ${to}${serverError ? ` (${serverError.error.message})` : ''}`);
  }
  if (requestId === undefined) {
    throw new UpstreamTransportError(owner.upstreamId, 'ERR_UPSTREAM_REJECTED', `answered HTTP ${status}`);
  }
  const answer =
    serverError !== undefined ? { ...serverError, id: requestId } : errorResponse(requestId, ErrorCode.UpstreamUnavailable, `upstream ${owner.upstreamId} answered HTTP ${status}`);
  owner.deliver(answer, requestId);
}
