'use strict';
/**
 * Start-up of the built CLI. Node 20 keeps no compile cache for ES modules, and compiling
 * setopsd's modules and yaml is most of what a short command costs, so the build also writes the
 * CLI as one CommonJS file (dist/setopsd.cjs, scripts/bundle-cli.ts) and this loads it through
 * a V8 code cache kept in the user's cache directory (`SETOPSD_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/setopsd`, else `~/.cache/setopsd`; `SETOPSD_CACHE_DIR=off`: no cache).
 * V8 rejects a cache made by another Node.js or from another bundle; the cache is also used only
 * when it and its directory belong to this user and nobody else can write them (it is code).
 * Without the bundle, or with one older than the ES modules (a checkout built by tsc alone), the
 * ES modules run as before.
 */
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const bundle = path.join(__dirname, '..', 'dist', 'setopsd.cjs');
/** `SETOPSD_BOOT_TRACE=1`: one stderr line saying how the CLI was loaded (for diagnosing a slow start). */
const trace = process.env.SETOPSD_BOOT_TRACE === '1' ? (line) => process.stderr.write(`setopsd boot: ${line}\n`) : () => {};

/** As `ruleCacheDir` in src/state/compiled-rules.ts names the rule cache, with `v8` for `policy-rules`. */
function cacheDir() {
  const own = process.env.SETOPSD_CACHE_DIR;
  if (own === 'off') return null;
  if (own) return path.join(own, 'v8');
  let home = process.env.HOME;
  if (!home) {
    try {
      home = os.homedir();
    } catch {
      return null;
    }
  }
  const base = process.env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : null);
  return base ? path.join(base, 'setopsd', 'v8') : null;
}

/** Owned by this user and writable by nobody else. */
function trusted(st) {
  const uid = process.getuid ? process.getuid() : undefined;
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

function run() {
  let source;
  let stat;
  try {
    stat = fs.statSync(bundle);
    // A tsc build after the last bundle (`tsc` alone, not `npm run build`): the ES modules are newer.
    if (stat.mtimeMs < fs.statSync(path.join(__dirname, '..', 'dist', 'cli', 'run.js')).mtimeMs) {
      trace('ES modules (dist/setopsd.cjs is older than dist/cli/run.js: run npm run build)');
      return false;
    }
    source = fs.readFileSync(bundle, 'utf8');
  } catch {
    trace('ES modules (no dist/setopsd.cjs)');
    return false;
  }
  const vm = require('node:vm');
  const Module = require('node:module');
  const dir = cacheDir();
  // Another bundle or another Node.js is another file (V8 would reject the old cache anyway).
  const file = dir && path.join(dir, `setopsd-${process.version}-${process.arch}-${stat.size}-${Math.floor(stat.mtimeMs)}.bin`);
  let cachedData;
  if (file) {
    try {
      if (trusted(fs.statSync(dir))) {
        const fd = fs.openSync(file, 'r');
        try {
          if (trusted(fs.fstatSync(fd))) cachedData = fs.readFileSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      }
    } catch {
      // no cache yet
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  trace(`bundle, code cache ${file === null ? 'off' : cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'}`);
  if (file && (cachedData === undefined || script.cachedDataRejected)) {
    // Made at exit, so the functions this run compiled are in it too.
    process.once('exit', () => {
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        if (!trusted(fs.statSync(dir))) return;
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, file);
        for (const old of fs.readdirSync(dir)) if (old !== path.basename(file) && old.startsWith('setopsd-')) fs.rmSync(path.join(dir, old), { force: true });
      } catch {
        // a cache that cannot be written is only slower
      }
    });
  }
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  const req = (id) => mod.require(id);
  req.resolve = (id, opts) => Module._resolveFilename(id, mod, false, opts);
  req.cache = Module._cache;
  script.runInThisContext()(mod.exports, req, mod, bundle, path.dirname(bundle));
  return true;
}

module.exports = { run };
