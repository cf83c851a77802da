import t from 'tap';
import { copy, mergePatch } from '../../src/manifests/merge-patch.js';

// RFC 7396 Appendix A, plus the cases setopsd overrides rely on.
const cases: [string, unknown, unknown, unknown][] = [
  ['replace a value', { a: 'b' }, { a: 'c' }, { a: 'c' }],
  ['add a key', { a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  ['null removes a key', { a: 'b' }, { a: null }, {}],
  ['null removes only that key', { a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  ['array replaced by string', { a: ['b'] }, { a: 'c' }, { a: 'c' }],
  ['string replaced by array', { a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  ['nested merge and removal', { a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  ['arrays are replaced, not merged', { a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  ['array target replaced', ['a', 'b'], ['c', 'd'], ['c', 'd']],
  ['object patch on array target', { a: 'b' }, ['c'], ['c']],
  ['null patch', { a: 'foo' }, null, null],
  ['string patch', { a: 'foo' }, 'bar', 'bar'],
  ['null value kept in arrays', { e: null }, { a: 1 }, { e: null, a: 1 }],
  ['array patch on object', [1, 2], { a: 'b', c: null }, { a: 'b' }],
  ['deep null on missing key', {}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ['override scale and memory', { scale: 1, resources: { cpu: 256, memory: 512 } }, { scale: 3, resources: { memory: 1024 } }, { scale: 3, resources: { cpu: 256, memory: 1024 } }],
  ['remove a link list', { links: [{ service: 'db' }], port: 1 }, { links: null }, { port: 1 }],
  ['empty patch changes nothing', { a: 1 }, {}, { a: 1 }],
];

for (const [name, target, patch, expected] of cases) {
  t.test(name, async (t) => {
    const targetBefore = copy(target);
    const patchBefore = copy(patch);
    const result = mergePatch(target, patch);
    t.same(result, expected);
    t.same(target, targetBefore, 'target not modified');
    t.same(patch, patchBefore, 'patch not modified');
  });
}

t.test('the result shares no object with the patch', async (t) => {
  const patch = { env: { A: 'x' }, list: [{ b: 1 }] };
  const result = mergePatch({}, patch) as { env: Record<string, string>; list: { b: number }[] };
  result.env.B = 'y';
  result.list[0]!.b = 2;
  t.same(patch, { env: { A: 'x' }, list: [{ b: 1 }] });
});
