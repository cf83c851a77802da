import { KINDS, KIND_SCHEMAS, type Kind } from './kinds.js';

/** The public schema of one kind, as `setopsd schema KIND` prints it. */
export function schemaOf(kind: Kind): object {
  return KIND_SCHEMAS[kind];
}

/**
 * One schema for any manifest document, dispatching on `kind` (for editors: the
 * yaml-language-server `$schema` modeline validates every document of a multi-document file).
 */
export function combinedSchema(): object {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://setopsd.dev/schema/v1/all.json',
    title: 'setopsd manifest',
    description: 'Any setopsd manifest: apiVersion setopsd/v1 and a kind of Organization, Project, Stage, App, Service or Policy.',
    type: 'object',
    properties: { kind: { enum: [...KINDS] } },
    required: ['kind'],
    allOf: KINDS.map((kind) => {
      const { $schema: _s, $id: _i, ...schema } = KIND_SCHEMAS[kind] as { $schema?: string; $id?: string };
      return { if: { properties: { kind: { const: kind } }, required: ['kind'] }, then: schema };
    }),
  };
}
