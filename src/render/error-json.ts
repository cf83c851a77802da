import type { Issue } from '../errors.js';
import { ValidationError, type SetopsError } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';

/** The version of every JSON document setopsd prints (plans, validation results, errors). */
export const JSON_FORMAT_VERSION = 1;

/** A located manifest problem as JSON (`col` kept beside `column` for readers of `validate --format json`). */
export interface IssueJson {
  code: ErrorCode;
  file: string;
  line: number;
  column: number;
  col: number;
  pointer: string;
  message: string;
}

/** One issue as JSON, with its code (`E_VALIDATION` unless the issue names another). */
export function issueJson(issue: Issue): IssueJson {
  return { code: issue.code ?? 'E_VALIDATION', file: issue.file, line: issue.line, column: issue.col, col: issue.col, pointer: issue.pointer, message: issue.message };
}

/** What `--format json` prints for a failed command: every located issue, or the one error. */
export interface ErrorJson {
  formatVersion: typeof JSON_FORMAT_VERSION;
  valid: false;
  error: { code: ErrorCode; message: string };
  issues: IssueJson[];
}

/** The JSON of a user error (a SetopsError), pretty-printed with a trailing newline. */
export function renderErrorJson(err: SetopsError): string {
  const doc: ErrorJson = {
    formatVersion: JSON_FORMAT_VERSION,
    valid: false,
    error: { code: err.code, message: err.message },
    issues: err instanceof ValidationError ? err.issues.map(issueJson) : [],
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
