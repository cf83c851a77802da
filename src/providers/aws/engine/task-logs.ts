/**
 * The output of a one-off ECS task while it runs: its CloudWatch Logs stream read from the head,
 * following `nextForwardToken` (the same token back means no new events yet), the way
 * `aws logs tail --follow` reads one stream. `TaskLogFollower` sees only `LogStreamReader`; the
 * real reader on `@aws-sdk/client-cloudwatch-logs` is in `cloudwatch-log-reader.ts`, loaded only
 * when a task runs.
 */
import { CanceledError } from '../../../errors.js';

/** One page of a stream's events after `token`. `missing`: the stream does not exist (yet). */
export interface LogPage {
  messages: string[];
  /** The token to ask with next; equal to the one given when nothing new came. */
  token: string | undefined;
  missing?: boolean;
}

/** Reads a log stream forward from its head. */
export interface LogStreamReader {
  read(group: string, stream: string, token: string | undefined, signal: AbortSignal): Promise<LogPage>;
}

/**
 * Follows one stream and writes each event as a line: `poll()` while the task runs writes what
 * is new, `drain()` after it stopped reads until no page brings anything (at most `maxPages`,
 * so a stream that keeps growing cannot hold the exit). A read that fails while the task runs is
 * logged once by the caller's `onError` and retried at the next poll: the task's outcome never
 * depends on its logs.
 */
export class TaskLogFollower {
  private token: string | undefined;
  private failed = false;

  constructor(
    private readonly reader: LogStreamReader,
    private readonly group: string,
    private readonly write: (chunk: string) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Whether every read succeeded (the output written is the whole output). */
  get complete(): boolean {
    return !this.failed;
  }

  /** Writes the events that are new since the last read; returns whether any came. */
  async poll(stream: string, signal: AbortSignal): Promise<boolean> {
    let page: LogPage;
    try {
      page = await this.reader.read(this.group, stream, this.token, signal);
    } catch (err) {
      if (err instanceof CanceledError) throw err;
      if (!this.failed) this.onError(err);
      this.failed = true;
      return false;
    }
    const moved = page.token !== this.token;
    this.token = page.token;
    if (page.messages.length > 0) this.write(page.messages.map((m) => (m.endsWith('\n') ? m : `${m}\n`)).join(''));
    return moved && page.messages.length > 0;
  }

  /** Reads to the end of the stream after the task stopped. */
  async drain(stream: string, signal: AbortSignal, maxPages = 100): Promise<void> {
    for (let i = 0; i < maxPages; i++) if (!(await this.poll(stream, signal))) return;
  }
}
