/**
 * Derives TypeScript types from the `as const` JSON Schemas in `kinds.ts`, so the schemas stay
 * the single source of truth. Covers the subset of JSON Schema those definitions use:
 * `type` (one or a list), `enum`, `const`, `properties` + `required`, `additionalProperties`,
 * `items`, `anyOf`. `allOf`/`if`/`then` only narrow values and are ignored here.
 *
 * `FromSchema<S>` is the type of a document as written (properties with a `default` are
 * optional); `FromSchema<S, true>` the type after validation, when ajv has filled in every
 * default (such properties are then present).
 */
export type FromSchema<S, Filled extends boolean = false> = S extends { readonly anyOf: readonly (infer U)[] }
  ? FromSchema<U, Filled>
  : S extends { readonly enum: readonly (infer E)[] }
    ? E
    : S extends { readonly const: infer C }
      ? C
      : S extends { readonly type: readonly (infer T)[] }
        ? TypeOf<T, S, Filled>
        : S extends { readonly type: infer T }
          ? TypeOf<T, S, Filled>
          : unknown;

type TypeOf<T, S, Filled extends boolean> = T extends 'string'
  ? string
  : T extends 'integer' | 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? S extends { readonly items: infer I }
            ? FromSchema<I, Filled>[]
            : unknown[]
          : T extends 'object'
            ? ObjectOf<S, Filled>
            : never;

type RequiredKeys<S, Filled extends boolean> =
  | (S extends { readonly required: readonly (infer R)[] } ? R : never)
  | (Filled extends true ? DefaultedKeys<S> : never);

type DefaultedKeys<S> = S extends { readonly properties: infer P }
  ? { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P]
  : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ObjectOf<S, Filled extends boolean> = Simplify<
  (S extends { readonly properties: infer P }
    ? { -readonly [K in keyof P as K extends RequiredKeys<S, Filled> ? K : never]-?: FromSchema<P[K], Filled> } & {
        -readonly [K in keyof P as K extends RequiredKeys<S, Filled> ? never : K]?: FromSchema<P[K], Filled>;
      }
    : unknown) &
    (S extends { readonly additionalProperties: infer A }
      ? A extends false
        ? unknown
        : A extends true
          ? Record<string, unknown>
          : Record<string, FromSchema<A, Filled>>
      : unknown)
>;
