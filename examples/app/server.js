// The example's web app: plain Node, no build step. Reads PORT, and DATABASE_URL from its
// link to the "database" service. GET / answers with data read from PostgreSQL (a visit
// counter); GET /healthz answers 200 once the database answers.
import http from 'node:http';
import pg from 'pg';

const port = Number(process.env.PORT ?? 5000);
const pool = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 }) : null;
let ready = null;

/** Creates the visit counter table once per process. */
function prepare() {
  ready ??= pool
    .query('create table if not exists visits (id bigserial primary key, at timestamptz not null default now())')
    .catch((err) => {
      ready = null;
      throw err;
    });
  return ready;
}

async function home() {
  if (!pool) return { status: 200, body: { app: 'web', greeting: process.env.GREETING ?? null, database: null } };
  await prepare();
  await pool.query('insert into visits default values');
  const { rows } = await pool.query(
    'select now() as now, current_database() as database, (select count(*) from visits)::int as visits',
  );
  return { status: 200, body: { app: 'web', greeting: process.env.GREETING ?? null, ...rows[0] } };
}

async function health() {
  if (pool) await pool.query('select 1');
  return { status: 200, body: { status: 'ok' } };
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  let result;
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') result = { status: 405, body: { error: 'method not allowed' } };
    else if (path === '/') result = await home();
    else if (path === '/healthz') result = await health();
    else result = { status: 404, body: { error: 'not found' } };
  } catch (err) {
    result = { status: 503, body: { error: `database unavailable: ${err.code ?? err.message}` } };
  }
  res.writeHead(result.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result.body) + '\n');
});

server.listen(port, () => console.log(`web listening on port ${server.address().port}`));

function stop(signal) {
  console.log(`web: ${signal}, shutting down`);
  server.close(() => {
    if (pool) pool.end().finally(() => process.exit(0));
    else process.exit(0);
  });
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
