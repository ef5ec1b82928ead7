/**
 * Benchmark harness (`npm run bench`): trains and runs every registered workload (bench/workloads/) in its own
 * child process (bench/run_one.ts), prints a table and writes bench/results.json atomically.
 *
 * Options:
 *   --quick                 fewer steps (the whole run stays under 2 minutes)
 *   --only a,b              workload names (default: all; see bench/workloads/index.ts)
 *   --backend wasm,cpu      backends to run (default: auto = what useBackend('auto') picks)
 *   --kernels on|off|both   with / without tfjs-qat's kernels (TFJS_QAT_NO_KERNELS=1) (default: on)
 *   --no-peer               skip the PyTorch peer (bench/peer_torch.py, run when /usr/bin/python3 has torch)
 *   --peer-threads 1,2      torch thread counts (default 1,2)
 *   --out FILE              results file (default bench/results.json)
 */
import { spawnSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { formatReport, isFailure, isTrain, type Row } from './report.js';
import type { AnyWorkload, PeerResult, WorkloadFailure, WorkloadResult } from './types.js';
import { WORKLOADS, peerWorkloadNames } from './workloads/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const PYTHON = '/usr/bin/python3';

/** Parsed command line. */
interface RunArgs {
  quick: boolean;
  only: string[];
  backends: string[];
  kernelModes: Array<'on' | 'off'>;
  peer: boolean;
  peerThreads: number[];
  out: string;
}

function parseArgs(argv: string[]): RunArgs {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const k = value('--kernels') ?? 'on';
  if (!['on', 'off', 'both'].includes(k)) throw new Error(`--kernels must be on, off or both; got '${k}'`);
  const only = list(value('--only'));
  for (const n of only) {
    if (!WORKLOADS.some((w) => w.name === n)) {
      throw new Error(`--only: unknown workload '${n}'; known: ${WORKLOADS.map((w) => w.name).join(', ')}`);
    }
  }
  return {
    quick: argv.includes('--quick'),
    only,
    backends: list(value('--backend')).length > 0 ? list(value('--backend')) : ['auto'],
    kernelModes: k === 'both' ? ['on', 'off'] : [k as 'on' | 'off'],
    peer: !argv.includes('--no-peer'),
    peerThreads: list(value('--peer-threads') ?? '1,2').map(Number),
    out: path.resolve(value('--out') ?? path.join(HERE, 'results.json')),
  };
}

/** Steps per measurement, by backend (the cpu backend is 15-50x slower). */
function settings(quick: boolean, backend: string): [warmup: number, reps: number, steps: number] {
  if (backend === 'cpu') return quick ? [1, 2, 2] : [2, 3, 3];
  return quick ? [2, 3, 4] : [5, 7, 10];
}

/** Run one workload in a child process; returns its result or failure. */
function runChild(name: string, backend: string, kernels: 'on' | 'off', quick: boolean): Row {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (kernels === 'off') env['TFJS_QAT_NO_KERNELS'] = '1';
  else delete env['TFJS_QAT_NO_KERNELS'];
  const [warmup, reps, steps] = settings(quick, backend);
  const child = spawnSync(process.execPath,
    ['--import', 'tsx', path.join(HERE, 'run_one.ts'), name, backend, String(warmup), String(reps), String(steps), quick ? 'quick' : 'full'],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 15 * 60 * 1000, maxBuffer: 16 << 20 });
  const line = (child.stdout ?? '').split('\n').reverse().find((l) => l.startsWith('{'));
  if (line !== undefined) {
    const parsed = JSON.parse(line) as { result?: Row; failure?: WorkloadFailure };
    if (parsed.result !== undefined) return parsed.result;
    if (parsed.failure !== undefined) return parsed.failure;
  }
  const why = child.error?.message ?? (child.stderr ?? '').trim().split('\n').slice(-1)[0] ?? `exit ${String(child.status)}`;
  return { workload: name, backend, kernels, error: `child process failed: ${why}` };
}

/**
 * Processes per QAT workload (each times the QAT net and its float twin in alternating reps). Step times differ by
 * up to ~20% from one process to the next on this VM, for the float nets too, so the full run takes the process
 * with the median QAT/float ratio (every process's ratio is kept in the row).
 */
const PAIRED_PROCESSES = 3;

function pairedInProcesses(name: string, backend: string, kernels: 'on' | 'off', quick: boolean): Row {
  const runs = Array.from({ length: quick ? 1 : PAIRED_PROCESSES }, () => runChild(name, backend, kernels, quick));
  const ok = runs.filter((r): r is WorkloadResult => isTrain(r) && r.paired !== undefined);
  if (ok.length < runs.length) return runs.find(isFailure) ?? runs[0]!;
  const ratios = ok.map((r) => r.paired!.ratio);
  const sorted = [...ok].sort((a, b) => a.paired!.ratio - b.paired!.ratio);
  const mid = sorted[(sorted.length - 1) >> 1]!;
  return ok.length === 1 ? mid : { ...mid, paired: { ...mid.paired!, processRatios: ratios } };
}

/** The PyTorch peer, or the reason it was skipped. */
function runPeer(args: RunArgs, names: string[]): { torch: string; results: PeerResult[] } | { skipped: string } {
  if (!args.peer) return { skipped: '--no-peer' };
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { skipped: `${PYTHON} cannot import torch (apt-get install python3-torch to enable the peer)` };
  }
  // One process per thread count: OpenMP and the BLAS behind Debian's torch (BLAS_INFO=generic, often OpenBLAS
  // with its own pthreads) read their thread counts from the environment at start-up.
  const results: PeerResult[] = [];
  let version = '';
  for (const threads of args.peerThreads) {
    const argv = [path.join(HERE, 'peer_torch.py'), '--only', names.join(','), '--threads', String(threads)];
    if (args.quick) argv.push('--quick');
    const n = String(threads);
    // OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep instead of spinning. On a shared machine spinning threads
    // fight other jobs for the cores and 2-thread torch ran ~10x slower than with passive waiting (measured).
    const env = { OMP_WAIT_POLICY: 'PASSIVE', ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
    const run = spawnSync(PYTHON, argv, { encoding: 'utf8', env, timeout: 20 * 60 * 1000, maxBuffer: 16 << 20 });
    const line = (run.stdout ?? '').split('\n').reverse().find((l) => l.startsWith('{'));
    if (run.status !== 0 || line === undefined) {
      return { skipped: `peer_torch.py failed: ${(run.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}` };
    }
    const parsed = JSON.parse(line) as { torch: string; results: PeerResult[] };
    version = parsed.torch;
    results.push(...parsed.results);
  }
  return { torch: version, results };
}

const args = parseArgs(process.argv.slice(2));
const selected = WORKLOADS.filter((w) => args.only.length === 0 || args.only.includes(w.name));
const started = Date.now();
const loadAtStart = os.loadavg();
const rows: Row[] = [];
/** Skip reason of a workload in this run, or undefined. */
const skipReason = (w: AnyWorkload): string | undefined => (args.quick && w.kind === 'custom' && args.only.length === 0 ? w.skipInQuick : undefined);
for (const backend of args.backends) {
  for (const kernels of args.kernelModes) {
    for (const w of selected) {
      const skip = skipReason(w);
      if (skip !== undefined) {
        rows.push({ workload: w.name, backend, kernels, error: `--quick: ${skip}`, skipped: true });
        process.stderr.write(`bench: ${w.name} skipped (--quick)\n`);
        continue;
      }
      const t0 = Date.now();
      process.stderr.write(`bench: ${w.name} on ${backend}, kernels ${kernels} ... `);
      const r = w.kind !== 'custom' && w.variant !== 'float' ? pairedInProcesses(w.name, backend, kernels, args.quick) : runChild(w.name, backend, kernels, args.quick);
      rows.push(r);
      const what = isFailure(r) ? `failed (${r.error})` : isTrain(r) ? `${r.trainSamplesPerSec.toFixed(0)} train samples/s` : 'done';
      process.stderr.write(`${what} [${((Date.now() - t0) / 1000).toFixed(0)} s]\n`);
    }
  }
}
const peerNames = peerWorkloadNames(selected);
const peer = peerNames.length > 0 ? runPeer(args, peerNames) : { skipped: 'no MLP/CNN training workload selected' };
if ('skipped' in peer) console.log(`PyTorch peer skipped: ${peer.skipped}`);
const loadAfter = os.loadavg();
console.log(formatReport(rows, 'results' in peer ? peer.results : []));

/** The commit measured and the source files that differed from it (other work in progress is measured too). */
function gitState(): { commit: string; modified: string[] } {
  const git = (a: string[]): string => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' }).stdout?.trimEnd() ?? '';
  return {
    commit: git(['rev-parse', 'HEAD']),
    modified: git(['status', '--porcelain', '--', 'src']).split('\n').filter((l) => l !== '').map((l) => l.slice(3)),
  };
}

const report = {
  date: new Date().toISOString(),
  durationSec: (Date.now() - started) / 1000,
  command: `tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadAvgAtStart: loadAtStart,
    loadAvgAtEnd: loadAfter,
    node: process.version,
    tfjs: tf.version.tfjs,
  },
  git: gitState(),
  workloads: Object.fromEntries(selected.map((w) => [w.name, w.description])),
  results: rows,
  peer,
  peerOmpWaitPolicy: process.env['OMP_WAIT_POLICY'] ?? 'PASSIVE',
};
const tmp = `${args.out}.tmp`;
writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
renameSync(tmp, args.out);
console.log(`machine: ${report.machine.cores} x ${report.machine.cpu}, load average (1/5/15 min) at start ${loadAtStart.map((v) => v.toFixed(2)).join(' ')}, at end ${loadAfter.map((v) => v.toFixed(2)).join(' ')}`);
console.log(`wrote ${path.relative(process.cwd(), args.out)} (${report.durationSec.toFixed(0)} s)`);
