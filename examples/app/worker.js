// The example's background worker: every few seconds it records a heartbeat in PostgreSQL
// (DATABASE_URL from its link). It serves GET /healthz on $PORT so the platform can check it;
// the health check fails while the last heartbeat failed.
import http from 'node:http';
import pg from 'pg';

const port = Number(process.env.PORT ?? 5000);
const everyMs = Number(process.env.WORKER_INTERVAL_MS ?? 5000);
const pool = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 }) : null;
let beats = 0;
let lastError = null;

async function beat() {
  if (!pool) {
    beats++;
    return;
  }
  try {
    await pool.query('create table if not exists worker_heartbeats (id int primary key, beats bigint not null, at timestamptz not null)');
    await pool.query(
      `insert into worker_heartbeats (id, beats, at) values (1, 1, now())
       on conflict (id) do update set beats = worker_heartbeats.beats + 1, at = now()`,
    );
    beats++;
    lastError = null;
  } catch (err) {
    lastError = err.code ?? err.message;
  }
}

const timer = setInterval(beat, everyMs);
void beat();

const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const ok = path === '/healthz' || path === '/';
  const status = !ok ? 404 : lastError ? 503 : 200;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(ok ? { app: 'worker', beats, error: lastError } : { error: 'not found' }) + '\n');
});
server.listen(port, () => console.log(`worker listening on port ${server.address().port}`));

function stop(signal) {
  console.log(`worker: ${signal}, shutting down`);
  clearInterval(timer);
  server.close(() => {
    if (pool) pool.end().finally(() => process.exit(0));
    else process.exit(0);
  });
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
