/**
 * nginx in front of a web process, as the README's deployment puts it: the load generator's connections
 * end at nginx, which keeps a few connections to the app open and sends every request over them. Used by
 * the overload bench with BENCH_PROXY=nginx, to measure what a deployment behind a proxy sees when
 * thousands of new visitors arrive at once (the app alone accepts about one new connection a turn of
 * its event loop: libuv accepts one per turn since libuv/libuv#3696).
 *
 * Needs Debian's nginx (`apt-get install nginx-light`); it runs as a child of the benchmark with a
 * configuration of its own in a temporary folder, never the system's.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, ROOT } from './processes.js';

const publicDir = path.join(ROOT, 'public');

const NGINX = '/usr/sbin/nginx';

/**
 * Connections to the app for signing POSTs (nginx's `max_conns` and `keepalive` of their upstream; 0: no
 * limit). The README's 32 is the app's OVERLOAD_MAX_IN_FLIGHT: the app never has more signings than it
 * admits, so it spends nothing refusing them, and nginx answers the rest with the busy page at once.
 */
export const PROXY_SIGNING_CONNS = Number(process.env.BENCH_PROXY_SIGNING_CONNS ?? 32);
/** Connections to the app for every other request (pages, assets, the API): the README's 64. */
export const PROXY_OTHER_CONNS = 64;

export interface RunningProxy {
  readonly url: string;
  readonly description: string;
  stop(): Promise<void>;
}

/** What both locations send to the app, and how they answer when its connections are all busy. */
const proxied = `      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      # The benchmark gives every request its own client address in X-Forwarded-For (TRUST_PROXY=1):
      # passed on as sent, where a deployment sets $remote_addr.
      proxy_set_header X-Forwarded-For $http_x_forwarded_for;
      # Every connection to the app busy (max_conns): nginx's own 502 at once, answered as the app's
      # refusals are, 503 with Retry-After and the busy page.
      error_page 502 =503 /busy.html;
`;

function configuration(folder: string, port: number, upstream: URL): string {
  return `
worker_processes 1;
daemon off;
master_process off;
pid ${folder}/nginx.pid;
error_log ${folder}/error.log warn;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${folder}/body;
  proxy_temp_path ${folder}/proxy;
  fastcgi_temp_path ${folder}/fastcgi;
  uwsgi_temp_path ${folder}/uwsgi;
  scgi_temp_path ${folder}/scgi;
  upstream undersigned_signing {
    zone undersigned_signing 64k;
    server ${upstream.host}${PROXY_SIGNING_CONNS ? ` max_conns=${PROXY_SIGNING_CONNS}` : ''};
    keepalive ${PROXY_SIGNING_CONNS || 64};
    keepalive_timeout 4s;
  }
  upstream undersigned {
    zone undersigned 64k;
    server ${upstream.host} max_conns=${PROXY_OTHER_CONNS};
    keepalive ${PROXY_OTHER_CONNS};
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://undersigned;
${proxied}    }
    location ~* ^/letters/[^/]+/sign/?$ {
      proxy_pass http://undersigned_signing;
${proxied}    }
    location = /busy.html {
      internal;
      root ${publicDir};
      add_header Retry-After 5 always;
      add_header Cache-Control no-store always;
    }
  }
}
`;
}

/** Whether Debian's nginx is installed (`npm run bench` skips the run behind it when not). */
export function nginxInstalled(): boolean {
  return existsSync(NGINX);
}

/** Starts nginx on a free port in front of `upstreamUrl`; waits until it answers. */
export async function startNginxProxy(upstreamUrl: string): Promise<RunningProxy> {
  if (!nginxInstalled()) throw new Error(`BENCH_PROXY=nginx needs ${NGINX}: apt-get install nginx-light`);
  const folder = mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-nginx-'));
  const port = await freePort();
  const file = path.join(folder, 'nginx.conf');
  writeFileSync(file, configuration(folder, port, new URL(upstreamUrl)));
  const child = spawn(NGINX, ['-p', folder, '-c', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (tries > 100) throw new Error('nginx did not answer within 10 s');
    await sleep(100);
  }
  return {
    url,
    description: `nginx (1 worker) in front, keeping at most ${PROXY_SIGNING_CONNS || 'any number of'} connections to the app for signing (max_conns, kept alive)`,
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
