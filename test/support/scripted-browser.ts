/**
 * The browser an OAuth CLI client opens, for tests: a tiny executable given to the client as
 * `BROWSER` (both mcp-remote and the MCP Inspector open URLs with the `open` package, whose
 * xdg-open runs `$BROWSER <url>` when there is no desktop), which appends each URL to a file.
 * `signIn` then does what a person would: follows the authorization URL with a real HTTP
 * client (cookies kept, redirects followed by hand), picks a user on the sign-in page if one
 * is shown, and finally loads the client's loopback callback with the code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

export interface SignIn {
  /** Every URL loaded, in order: authorization endpoint, sign-in, resume, the client's callback. */
  visited: string[];
  /** The scope the authorization request asked for. */
  scope: string | null;
  /** The status the client's callback answered. */
  callbackStatus: number;
}

export class ScriptedBrowser {
  private readonly urls: string;
  readonly executable: string;
  private seen = 0;

  constructor(dir: string) {
    this.urls = join(dir, 'opened-urls.txt');
    this.executable = join(dir, 'browser.sh');
    writeFileSync(this.executable, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${this.urls}'\n`);
    chmodSync(this.executable, 0o755);
  }

  /** URLs opened so far. */
  opened(): string[] {
    return existsSync(this.urls) ? readFileSync(this.urls, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** The next URL the client opens. */
  async nextUrl(what: string, timeoutMs = 30_000): Promise<string> {
    const url = await waitFor(() => this.opened()[this.seen], { what, timeoutMs, intervalMs: 50 });
    this.seen++;
    return url;
  }

  /** Completes an authorization request as `user` (the sign-in page's button, if one is shown). */
  async signIn(authorizationUrl: string, user: string): Promise<SignIn> {
    const cookies = new Map<string, string>();
    const visited: string[] = [];
    const issuer = new URL(authorizationUrl).origin;
    let url = authorizationUrl;
    let init: RequestInit = {};
    for (let hop = 0; hop < 12; hop++) {
      visited.push(url);
      const target = new URL(url);
      const headers = new Headers(init.headers);
      if (target.origin === issuer && cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
      const res = await fetch(url, { ...init, headers, redirect: 'manual' });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
      if (target.origin !== issuer) {
        await res.text();
        return { visited, scope: new URL(authorizationUrl).searchParams.get('scope'), callbackStatus: res.status };
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.text();
        url = new URL(location, url).href;
        init = {};
        continue;
      }
      const body = await res.text();
      const form = /<form method="post" action="([^"]+)"/.exec(body);
      if (res.status !== 200 || !form) throw new Error(`sign-in stopped at ${url}: ${res.status} ${body.slice(0, 300)}`);
      url = new URL(form[1]!, url).href;
      init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ user }).toString() };
    }
    throw new Error(`sign-in did not reach the client's callback: ${visited.join(' → ')}`);
  }
}

/**
 * An access token from an authorization server by authorization code + PKCE (S256), as a
 * confidential client whose redirect URI is a loopback listener of ours: the code arrives
 * there, and is exchanged at the token endpoint with client_secret_basic.
 */
export async function authorizationCodeToken(
  browser: ScriptedBrowser,
  o: { issuer: string; clientId: string; clientSecret: string; user: string; scope: string; resource: string },
): Promise<string> {
  const codes: string[] = [];
  const callback = createServer((req, res) => {
    const code = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('code');
    if (code) codes.push(code);
    res.end('signed in');
  });
  await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
  try {
    const redirectUri = `http://127.0.0.1:${(callback.address() as { port: number }).port}/oauth/callback`;
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL('/auth', o.issuer);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: o.clientId,
      redirect_uri: redirectUri,
      scope: o.scope,
      resource: o.resource,
      state: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      login_hint: o.user,
    }))
      authorize.searchParams.set(k, v);
    await browser.signIn(authorize.href, o.user);
    const code = codes[0];
    if (!code) throw new Error('no authorization code arrived at the callback');
    const res = await fetch(new URL('/token', o.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${o.clientId}:${o.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, resource: o.resource }),
    });
    const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!body.access_token) throw new Error(`token request failed: ${res.status} ${body.error}: ${body.error_description}`);
    return body.access_token;
  } finally {
    callback.closeAllConnections();
    await new Promise<void>((r) => callback.close(() => r()));
  }
}
