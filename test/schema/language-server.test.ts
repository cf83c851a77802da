/**
 * The editor schema with the real yaml-language-server (what VS Code's YAML extension runs),
 * over its stdio LSP protocol: multi-document manifests get diagnostics in every document —
 * through the `yaml.schemas` setting, or with a modeline in each document (a modeline covers
 * only the document it is written in).
 */
import t from 'tap';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const schemaUri = pathToFileURL(join(repoRoot, 'src/schema/setops.schema.json')).href;
const server = join(repoRoot, 'node_modules/yaml-language-server/bin/yaml-language-server');

interface Diagnostic {
  message: string;
  range: { start: { line: number; character: number } };
}

/** A minimal LSP client: requests, notifications, answers to the server's configuration requests, published diagnostics. */
function languageServer(t: { teardown(fn: () => void): void }, settings: object) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [server, '--stdio'], { env: { ...process.env, NODE_OPTIONS: '' } });
  t.teardown(() => void child.kill());
  const diagnostics = new Map<string, Diagnostic[]>();
  const pending = new Map<number, (result: unknown) => void>();
  let nextId = 1;
  let buffer = Buffer.alloc(0);
  const send = (message: object) => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }));
    child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    child.stdin.write(body);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString())?.[1]);
      if (buffer.length < end + 4 + length) return;
      const msg = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString()) as { id?: number; method?: string; params?: any; result?: unknown };
      buffer = buffer.subarray(end + 4 + length);
      if (msg.method === 'textDocument/publishDiagnostics') diagnostics.set(msg.params.uri, msg.params.diagnostics);
      else if (msg.method === 'workspace/configuration') send({ id: msg.id, result: msg.params.items.map(() => settings) });
      else if (msg.method !== undefined && msg.id !== undefined) send({ id: msg.id, result: null });
      else if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
    }
  });
  const request = (method: string, params: object) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      send({ id, method, params });
    });
  return {
    async start(root: string) {
      await request('initialize', { processId: process.pid, rootUri: pathToFileURL(root).href, capabilities: { workspace: { configuration: true }, textDocument: { publishDiagnostics: {} } } });
      send({ method: 'initialized', params: {} });
      send({ method: 'workspace/didChangeConfiguration', params: { settings: { yaml: settings } } });
    },
    open(file: string) {
      const uri = pathToFileURL(file).href;
      send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'yaml', version: 1, text: readFileSync(file, 'utf8') } } });
      return uri;
    },
    diagnostics: (uri: string) => diagnostics.get(uri),
  };
}

/** The example with an unknown field in its fourth document (the production Stage). */
function exampleWithTypo(dir: string): { file: string; line: number } {
  const text = readFileSync(join(repoRoot, 'examples/setops.yaml'), 'utf8');
  const docs = text.split(/^---\n/m);
  docs[3] = docs[3]!.replace('  approval: manual\n', '  approval: manual\n  aproval: manual\n');
  const edited = docs.join('---\n');
  const file = join(dir, 'setops.yaml');
  writeFileSync(file, edited);
  return { file, line: edited.split('\n').indexOf('  aproval: manual') };
}

const typoFlagged = (list: Diagnostic[] | undefined, line: number) => list?.find((d) => d.range.start.line === line && /aproval/.test(d.message));

t.test('yaml.schemas setting: an unknown field in the fourth document is flagged', async (t) => {
  const dir = tempDir(t);
  const { file } = exampleWithTypo(dir);
  // No modeline at all: the setting alone maps the schema to the manifests.
  const text = readFileSync(file, 'utf8').replace(/^# yaml-language-server:.*\n/gm, '');
  writeFileSync(file, text);
  const line = text.split('\n').indexOf('  aproval: manual');
  const ls = languageServer(t, { validate: true, schemas: { [schemaUri]: ['*.yaml'] } });
  await ls.start(dir);
  const uri = ls.open(file);
  const hit = await waitFor('diagnostics for the typo', async () => typoFlagged(ls.diagnostics(uri), line), { timeoutMs: 30_000 });
  t.match(hit.message, /aproval/);
});

t.test('the bundled example has a modeline in every document, so the typo is flagged without settings', async (t) => {
  const example = readFileSync(join(repoRoot, 'examples/setops.yaml'), 'utf8');
  const docs = example.split(/^---\n/m);
  t.equal(docs.filter((d) => /^# yaml-language-server: \$schema=\.\.\/src\/schema\/setops\.schema\.json$/m.test(d)).length, docs.length, 'one modeline per document');
  const dir = tempDir(t);
  const { file, line } = exampleWithTypo(dir);
  // The modelines point at ../src/schema/setops.schema.json, relative to the file: point them at the real one.
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('$schema=../src/schema/setops.schema.json', `$schema=${schemaUri}`));
  const ls = languageServer(t, { validate: true });
  await ls.start(dir);
  const uri = ls.open(file);
  const hit = await waitFor('diagnostics for the typo', async () => typoFlagged(ls.diagnostics(uri), line), { timeoutMs: 30_000 });
  t.match(hit.message, /aproval/);
});
