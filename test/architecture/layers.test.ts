/**
 * The layering rule of docs/architecture.md, checked over every import of src/ (static, dynamic
 * and type-only): a file imports only its own layer or lower ones, and no set of files imports
 * itself in a circle.
 *
 *   base (src/*.ts), model  ←  schema, manifests, state  ←  reconciler  ←  providers  ←  operations, render  ←  cli, daemon
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LAYERS: Record<string, number> = {
  '': 0, model: 0, schema: 1, manifests: 1, state: 1, reconciler: 2, providers: 3, operations: 4, render: 4, cli: 5, daemon: 5,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of a file, resolved to repository paths (`src/x/y.ts`). */
function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^import\s+['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specs.map((s) => relative(root, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
}

function layerOf(path: string): { name: string; level: number } {
  const parts = path.split('/');
  const name = parts.length === 2 ? '' : parts[1]!;
  const level = LAYERS[name];
  if (level === undefined) throw new Error(`${path}: src/${name} has no layer; add it to LAYERS and docs/architecture.md`);
  return { name, level };
}

const files = sourceFiles(join(root, 'src')).map((f) => relative(root, f));
const graph = new Map(files.map((f) => [f, importsOf(join(root, f), readFileSync(join(root, f), 'utf8'))]));

t.test('the import scan finds the imports (guards the check itself)', async (t) => {
  t.same(importsOf(join(root, 'src/x/a.ts'), "import { a } from '../b.js';\nimport type { C } from './c.js';\nconst m = await import('../d/e.js');\nexport { f } from './f.js';\nimport './side.js';\n"), ['src/b.ts', 'src/x/c.ts', 'src/d/e.ts', 'src/x/f.ts', 'src/x/side.ts']);
  t.ok(graph.get('src/cli/main.ts')!.length > 0, 'real files have imports');
});

t.test('no file imports a higher layer', async (t) => {
  const upward: string[] = [];
  for (const [file, deps] of graph) {
    const from = layerOf(file);
    for (const dep of deps) {
      const to = layerOf(dep);
      if (to.level > from.level) upward.push(`${file} (${from.name || 'base'}) imports ${dep} (${to.name})`);
    }
  }
  t.same(upward, [], 'upward imports');
});

t.test('every import points at a file that exists', async (t) => {
  const missing = [...graph].flatMap(([file, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${file} → ${d}`));
  t.same(missing, []);
});

t.test('no import circle', async (t) => {
  // Tarjan's strongly connected components: any component of more than one file is a circle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const f of [...graph.keys()].sort()) if (!idx.has(f)) visit(f);
  t.same(circles, [], 'import circles');
});
