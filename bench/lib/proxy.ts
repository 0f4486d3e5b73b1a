/**
 * nginx in front of a web process, with the README's "Behind nginx" configuration itself (its two
 * ```nginx blocks, read from README.md): the load generator's connections end at nginx, which keeps a few
 * connections to the app open and sends every request over them. Used by the overload bench with
 * BENCH_PROXY=nginx, to measure what a deployment behind the proxy sees when thousands of new visitors
 * arrive at once (the app alone accepts about one new connection a turn of its event loop: libuv accepts
 * one per turn since libuv/libuv#3696), and by tests/integration/process/readme-nginx.test.ts, so what
 * operators copy keeps working.
 *
 * Needs Debian's nginx (`apt-get install nginx-light`); it runs as a child process with a configuration
 * of its own in a temporary folder, never the system's.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, ROOT } from './processes.js';

const NGINX = '/usr/sbin/nginx';

export interface RunningProxy {
  readonly url: string;
  readonly description: string;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** nginx worker processes; by default one a core, as Debian's nginx.conf (`worker_processes auto`) runs it. */
  workers?: number;
  /**
   * Pass on the X-Forwarded-For the client sent instead of the client's own address: the benchmark gives
   * every request an address of its own that way (a deployment never does: clients could choose theirs).
   */
  passClientAddresses?: boolean;
}

/** Replaces `from`, which `text` must hold: a README that no longer says it fails here, not later. */
function put(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the README's nginx configuration no longer has "${from}"`);
  return text.replaceAll(from, to);
}

/**
 * The README's configuration with this machine's addresses, ports and paths put in, and around it what
 * /etc/nginx/nginx.conf gives a site on Debian; the include is written into `folder`. Nothing else is
 * changed, but for the client addresses when `passClientAddresses`.
 */
export function readmeNginxConfig(
  folder: string,
  ports: { proxy: number; app: number },
  options: ProxyOptions,
): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const [site, include] = [...readme.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]!);
  if (site === undefined || include === undefined) throw new Error('the README has no two nginx blocks');
  const proxied = options.passClientAddresses
    ? put(include, 'X-Forwarded-For $remote_addr;', 'X-Forwarded-For $http_x_forwarded_for;')
    : include;
  writeFileSync(path.join(folder, 'undersigned-proxy.conf'), proxied);
  let server = put(site, 'listen 443 ssl http2;', `listen 127.0.0.1:${ports.proxy} backlog=4096;`);
  server = put(server, '/etc/nginx/undersigned-proxy.conf', path.join(folder, 'undersigned-proxy.conf'));
  server = put(server, '127.0.0.1:3000', `127.0.0.1:${ports.app}`);
  server = put(server, '/opt/undersigned/public', path.join(ROOT, 'public'));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (name) => `${name}_temp_path ${path.join(folder, name)};`,
  );
  return `daemon off;
worker_processes ${workersOf(options)};
pid ${path.join(folder, 'nginx.pid')};
error_log ${path.join(folder, 'error.log')} warn;
events { worker_connections 16384; multi_accept on; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  ${temp.join('\n  ')}
${server}
}
`;
}

/** Whether Debian's nginx is installed (`npm run bench` skips the run behind it when not). */
function workersOf(options: ProxyOptions): number {
  return options.workers ?? os.availableParallelism();
}

export function nginxInstalled(): boolean {
  return existsSync(NGINX);
}

/** Starts nginx on a free port in front of `upstreamUrl`; waits until its /healthz answers through it. */
export async function startNginxProxy(
  upstreamUrl: string,
  options: ProxyOptions = {},
): Promise<RunningProxy> {
  if (!nginxInstalled()) throw new Error(`nginx is missing (${NGINX}): apt-get install nginx-light`);
  const folder = mkdtempSync(path.join(os.tmpdir(), 'undersigned-nginx-'));
  const port = await freePort();
  const file = path.join(folder, 'nginx.conf');
  writeFileSync(
    file,
    readmeNginxConfig(folder, { proxy: port, app: Number(new URL(upstreamUrl).port) }, options),
  );
  const child = spawn(NGINX, ['-p', folder, '-c', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const stop = async () => {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    else return rmSync(folder, { recursive: true, force: true });
    await exited;
    rmSync(folder, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nginx exited with ${child.exitCode}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (tries > 100) {
      await stop();
      throw new Error('nginx did not answer within 10 s');
    }
    await sleep(100);
  }
  return {
    url,
    description: `the README's nginx in front (${workersOf(options)} worker${workersOf(options) === 1 ? '' : 's'})`,
    stop,
  };
}
