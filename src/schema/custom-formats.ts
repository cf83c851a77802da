import { isCronExpression, isTimeZone } from './cron.js';

/**
 * The formats setopsd adds to JSON Schema that are functions, not regular expressions: the
 * precompiled validators (`validators.generated.ts`) call them through this object (ajv inlines
 * the regular-expression formats, such as email, into the generated code).
 */
export const customFormats = { cron: isCronExpression, timezone: isTimeZone } as const;
