/**
 * Sums a V8 CPU profile's self time per function and per file (or package, for node_modules), and
 * prints the top of each as markdown. Run: npx tsx bench/lib/profile-summary.ts <file.cpuprofile> [top].
 * Profiles come from BENCH_CPU_PROFILE=<folder> on the pages or signing benchmark.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A function or file and its self time. */
export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

/**
 * node_modules/<package> (or @scope/package) for a dependency, the path from the checkout for our
 * code, and for frames without a file (GC, native calls such as writev) their own name.
 */
function fileOf(url: string, functionName: string): string {
  if (!url) return `(native) ${functionName || '(anonymous)'}`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return `node_modules/${modules[1]}`;
  if (url.startsWith('node:')) return url;
  const ours = /\/(dist\/)?((?:server|seeds)\/.*)$/.exec(url);
  return ours ? ours[2]! : url.replace(/^file:\/\//, '');
}

/**
 * Self time per function and per file, largest first, each with its share of the busy time: the time
 * the process was idle (waiting for the network, or for the CPU it shares) is left out and given apart.
 */
export function summarise(profile: CpuProfile): {
  total: number;
  idle: number;
  functions: SelfTime[];
  files: SelfTime[];
} {
  const byNode = new Map<number, number>();
  profile.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (!us) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const file = fileOf(url, functionName);
    const fn = url ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}` : file;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const ranked = (map: Map<string, number>) =>
    [...map].map(([name, us]) => ({ name, ms: us / 1000, share: us / total })).sort((a, b) => b.ms - a.ms);
  return { total: total / 1000, idle: idle / 1000, functions: ranked(functions), files: ranked(files) };
}

function table(title: string, rows: readonly SelfTime[]): string {
  return [
    `| ${title} | self ms | share |`,
    '|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)} % |`),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top = '25'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npx tsx bench/lib/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  console.log(
    `${summary.total.toFixed(0)} ms busy (shares below are of this), ${summary.idle.toFixed(0)} ms idle\n`,
  );
  console.log(table('file or package', summary.files.slice(0, Number(top))));
  console.log();
  console.log(table('function', summary.functions.slice(0, Number(top))));
}
