import t from 'tap';
import type { AppSpec, OrganizationDoc, ServiceSpec, StageDoc } from '../../src/schema/kinds.js';
import type { FromSchema } from '../../src/schema/from-schema.js';
import type { AppModel, ServiceType } from '../../src/model/stage-model.js';

/**
 * The TypeScript types are derived from the JSON Schemas (`FromSchema`). These assertions are
 * checked by `tsc -p tsconfig.test.json` (part of `npm test`): when a schema changes shape,
 * this file stops compiling.
 */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

// Defaults make fields present after validation.
assertType<Equal<AppSpec["port"], number>>();
assertType<Equal<AppSpec['protocol'], 'http' | 'tcp'>>();
assertType<Equal<AppSpec['resources'], { cpu: number; memory: number }>>();
assertType<Equal<AppSpec['command'], string | string[] | undefined>>();
assertType<Equal<AppSpec['healthCheck']['status'], string>>();
assertType<Equal<StageDoc['spec']['approval'], 'auto' | 'manual'>>();
assertType<Equal<OrganizationDoc['spec']['provider'], 'local' | 'aws'>>();
assertType<Equal<ServiceSpec['type'], ServiceType>>();
// The validated app fields the model copies have the model's types.
assertType<Equal<Pick<AppSpec, 'port' | 'public' | 'scale'>, Pick<AppModel, 'port' | 'public' | 'scale'>>>();

// The derivation itself.
const schema = {
  type: 'object',
  properties: { a: { type: 'integer', default: 1 }, b: { type: 'string' }, c: { enum: ['x', 'y'] } },
  required: ['b'],
  additionalProperties: false,
} as const;
assertType<Equal<FromSchema<typeof schema>, { b: string; a?: number; c?: 'x' | 'y' }>>();
assertType<Equal<FromSchema<typeof schema, true>, { a: number; b: string; c?: 'x' | 'y' }>>();

t.test('type assertions compile (checked by tsc)', async (t) => {
  t.pass('see the assertType lines above');
});
