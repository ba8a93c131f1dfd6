/**
 * The browser an OAuth CLI client opens, for tests: a tiny executable given to the client as
 * `BROWSER` (both mcp-remote and the MCP Inspector open URLs with the `open` package, whose
 * xdg-open runs `$BROWSER <url>` when there is no desktop), which appends each URL to a file.
 * `signIn` then does what a person would: follows the authorization URL with a real HTTP
 * client (cookies kept, redirects followed by hand), picks a user on the sign-in page if one
 * is shown, and finally loads the client's loopback callback with the code.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
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
