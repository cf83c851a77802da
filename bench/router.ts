/**
 * Router benchmark: a trivial HTTP backend served directly, through the stage router
 * (`src/providers/local/router.ts`, undici keep-alive pool per process) and — when `nginx` is installed —
 * through nginx with an upstream keep-alive pool, in one run, interleaved. Backend, proxies and
 * load generator are separate processes. Prints requests/s and latency percentiles per target and
 * the ratios the README quotes (router vs nginx throughput, router vs direct p99). Not a test.
 *
 * The load generator is a Node process by default (keep-alive agent, closed loop); `--load wrk`
 * uses Debian's wrk instead (one thread), which leaves more of the 2 cores to the proxies.
 *
 * A closed loop measures each target at its own saturation, so its latencies follow its throughput.
 * Latency is therefore also measured at one offered rate for every target (`--rate`, requests/s,
 * 0 skips it): an open loop that sends on a fixed schedule whatever the answers do, so time spent
 * waiting for a free connection counts.
 *
 *   node --import tsx bench/router.ts [--seconds 5] [--connections 32] [--runs 3] [--load node|wrk] [--rate 4000]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { Router } from '../src/providers/local/router.js';
import type { ManagedProcess } from '../src/providers/local/managed-process.js';

const HOST = 'web.bench.shop.localhost';
const self = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    runs: { type: 'string', default: '3' },
    load: { type: 'string', default: 'node' },
    rate: { type: 'string', default: '4000' },
    role: { type: 'string' },
    port: { type: 'string' },
  },
  allowPositionals: true,
});

/** Prints the port a child listens on, as its first stdout line. */
function announce(port: number): void {
  process.stdout.write(`${port}\n`);
}

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

/** Requests answered, failures and the latency percentiles of one measurement. */
function summary(latencies: number[], errors: number, seconds: number): LoadResult {
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { requests: latencies.length, errors, seconds, p50: at(0.5), p99: at(0.99) };
}

/** Closed loop: `connections` keep-alive connections, each sending the next request when the last answer ended. */
async function load(port: number, connections: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: HOST } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const warmUntil = performance.now() + 1000;
  const until = warmUntil + seconds * 1000;
  let counting = false;
  const loops = Array.from({ length: connections }, async () => {
    while (performance.now() < until) {
      if (!counting && performance.now() >= warmUntil) {
        counting = true;
        latencies.length = 0;
        errors = 0;
      }
      await one();
    }
  });
  await Promise.all(loops);
  agent.destroy();
  return summary(latencies, errors, seconds);
}

/** Starts this file in another role: through tsx, or from `compiled` (JavaScript without any loader). */
/**
 * Open loop: `rate` requests per second on a fixed schedule over at most `connections` keep-alive
 * connections, whatever the answers do; each latency runs from the moment the request was handed to
 * the agent (so waiting for a free connection counts) to the end of its answer.
 */
async function loadAtRate(port: number, connections: number, seconds: number, rate: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  let pending = 0;
  const send = (counted: boolean) => {
    pending++;
    const sentAt = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: HOST } }, (res) => {
      res.resume();
      res.on('end', () => {
        pending--;
        if (!counted) return;
        if (res.statusCode === 200) latencies.push(performance.now() - sentAt);
        else errors++;
      });
    });
    req.on('error', () => {
      pending--;
      if (counted) errors++;
    });
    req.end();
  };
  const start = performance.now();
  const warmUntil = start + 1000;
  const until = warmUntil + seconds * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      // Every request due by now (the timer fires up to a millisecond late: that delay is the generator's, not the target's).
      for (let due = start + (sent * 1000) / rate; due <= now && due < until; due = start + (sent * 1000) / rate) {
        send(due >= warmUntil);
        sent++;
      }
      if (now >= until) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  while (pending > 0) await new Promise((r) => setTimeout(r, 5));
  agent.destroy();
  return summary(latencies, errors, seconds);
}

function child(args: string[], compiled?: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, compiled === undefined ? ['--import', 'tsx', self, ...args] : [compiled, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.stdout!.once('data', (d: Buffer) => resolve({ proc, port: Number(String(d).trim().split('\n')[0]) }));
    proc.once('exit', (code) => reject(new Error(`bench child ${args.join(' ')} exited (${code})`)));
  });
}

/** wrk's summary of one measurement (after a 1 s warm-up run, as the Node generator warms up). */
function runWrk(port: number): LoadResult {
  const args = ['-t1', `-c${values.connections}`, '--latency', '-H', `Host: ${HOST}`, `http://127.0.0.1:${port}/`];
  spawnSync('wrk', ['-d1s', ...args]);
  const r = spawnSync('wrk', [`-d${values.seconds}s`, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(r.stdout);
    if (!m) throw new Error(`wrk printed no ${label}% latency:\n${r.stdout}`);
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const requests = Number(/^\s*(\d+) requests in/m.exec(r.stdout)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(r.stdout);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { requests: requests - non2xx, errors, seconds: Number(values.seconds), p50: ms('50'), p99: ms('99') };
}

/** One measurement of `port`: closed loop (wrk or the Node generator), or open loop at `rate` requests/s. */
function runLoad(port: number, rate = 0): Promise<LoadResult> {
  if (values.load === 'wrk' && rate === 0) return Promise.resolve(runWrk(port));
  const proc = spawn(process.execPath, ['--import', 'tsx', self, '--role', 'load', '--port', String(port), '--connections', values.connections!, '--seconds', values.seconds!, '--rate', String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited ${code}`)))));
}

/** nginx on `port` proxying to the backend with an upstream keep-alive pool; null when nginx is not installed. */
async function startNginx(backendPort: number): Promise<{ proc: ChildProcess; port: number; dir: string } | null> {
  if (spawnSync('nginx', ['-v']).error) return null;
  const dir = await mkdtemp(join(tmpdir(), 'setopsd-bench-nginx-'));
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; }
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const proc = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (up) return { proc, port, dir };
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill();
  throw new Error(`nginx did not start; see ${dir}/error.log`);
}

/** CPU time a process used so far (user + system, ms), from /proc (Linux), or NaN. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 100 Hz ticks
  } catch {
    return Number.NaN;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * This file compiled to one JavaScript module (npm packages external) in `dir`. The router runs from
 * it, without a loader, as the supervisor runs from `dist/`.
 */
async function compiledSelf(dir: string): Promise<string> {
  const outfile = join(dir, 'router-bench.mjs');
  await build({ entryPoints: [self], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'error' });
  return outfile;
}

async function main(): Promise<void> {
  // Inside node_modules, so that the compiled module finds the npm packages it imports.
  const cacheDir = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
  await mkdir(cacheDir, { recursive: true });
  const buildDir = await mkdtemp(join(cacheDir, 'setopsd-bench-router-'));
  const backend = await child(['--role', 'backend']);
  const router = await child(['--role', 'router', '--port', String(backend.port)], await compiledSelf(buildDir));
  const nginx = await startNginx(backend.port);
  const targets: [string, number][] = [['direct', backend.port], ['router', router.port], ...(nginx ? [['nginx', nginx.port] as [string, number]] : [])];
  if (!nginx) process.stdout.write('nginx is not installed: measuring direct and router only (apt-get install nginx adds it)\n');
  const results = new Map<string, LoadResult[]>(targets.map(([n]) => [n, []]));
  const rate = Number(values.rate);
  const atRate = new Map<string, LoadResult[]>(targets.map(([n]) => [n, []]));
  // CPU the router and the backend spend per request while the router is measured: a ratio that
  // the load of other processes on the machine hardly moves (throughput does).
  const cpuRatios: number[] = [];
  try {
    for (let run = 0; run < Number(values.runs); run++) {
      for (const [name, port] of targets) {
        const r0 = cpuMs(router.proc.pid);
        const b0 = cpuMs(backend.proc.pid);
        results.get(name)!.push(await runLoad(port));
        if (name === 'router') cpuRatios.push((cpuMs(router.proc.pid) - r0) / (cpuMs(backend.proc.pid) - b0));
      }
      if (rate > 0) for (const [name, port] of targets) atRate.get(name)!.push(await runLoad(port, rate));
    }
  } finally {
    backend.proc.kill();
    router.proc.kill();
    nginx?.proc.kill('SIGQUIT');
    if (nginx) await rm(nginx.dir, { recursive: true, force: true });
    await rm(buildDir, { recursive: true, force: true });
  }
  const row = (name: string, from = results) => {
    const rs = from.get(name)!;
    return { rps: median(rs.map((r) => r.requests / r.seconds)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((s, r) => s + r.errors, 0) };
  };
  process.stdout.write(`\n${values.connections} connections, ${values.seconds} s per measurement, median of ${values.runs} interleaved runs, load generator: ${values.load}\n\n`);
  process.stdout.write('| target | requests/s | p50 ms | p99 ms | failed |\n| --- | ---: | ---: | ---: | ---: |\n');
  for (const [name] of targets) {
    const r = row(name);
    process.stdout.write(`| ${name} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |\n`);
  }
  const d = row('direct');
  const r = row('router');
  process.stdout.write(`\nrouter / direct throughput: ${(r.rps / d.rps).toFixed(2)}x; router p99 / direct p99: ${(r.p99 / d.p99).toFixed(2)}x (target ≤ 2x)\n`);
  process.stdout.write(`router CPU per request / backend CPU per request: ${median(cpuRatios).toFixed(2)}x (runs: ${cpuRatios.map((x) => x.toFixed(2)).join(', ')})\n`);
  if (nginx) {
    const n = row('nginx');
    process.stdout.write(`nginx / router throughput: ${(n.rps / r.rps).toFixed(2)}x (target ≤ 1.5x)\n`);
  }
  if (rate > 0) {
    process.stdout.write(`\nAt one offered rate for every target: ${rate} requests/s, open loop (Node generator), at most ${values.connections} connections\n\n`);
    process.stdout.write('| target | answered/s | p50 ms | p99 ms | failed |\n| --- | ---: | ---: | ---: | ---: |\n');
    for (const [name] of targets) {
      const x = row(name, atRate);
      process.stdout.write(`| ${name} | ${Math.round(x.rps)} | ${x.p50.toFixed(2)} | ${x.p99.toFixed(2)} | ${x.errors} |\n`);
    }
    const dr = row('direct', atRate);
    const rr = row('router', atRate);
    process.stdout.write(`\nat ${rate} requests/s: router p99 / direct p99: ${(rr.p99 / dr.p99).toFixed(2)}x (target ≤ 2x)`);
    if (nginx) process.stdout.write(`; nginx p99 / direct p99: ${(row('nginx', atRate).p99 / dr.p99).toFixed(2)}x`);
    process.stdout.write('\n');
  }
}

// Dispatch last: every declaration above is initialised by now.
if (values.role === 'backend') {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 12 });
    res.end('hello world\n');
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
} else if (values.role === 'router') {
  const proc = { port: Number(values.port), inflight: 0 } as unknown as ManagedProcess;
  const router = new Router({ stageLabel: 'acme/shop/bench', appFor: (h) => (h === HOST ? { name: 'web', backends: () => [proc] } : null), hosts: () => [HOST] });
  void router.listen(0).then(announce);
  process.on('SIGINT', () => process.exit(0)); // so --cpu-prof writes its profile
} else if (values.role === 'load') {
  const rate = Number(values.rate);
  void (rate > 0 ? loadAtRate(Number(values.port), Number(values.connections), Number(values.seconds), rate) : load(Number(values.port), Number(values.connections), Number(values.seconds))).then((r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(0);
  });
} else {
  await main();
}
