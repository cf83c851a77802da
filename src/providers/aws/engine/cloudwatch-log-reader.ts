/**
 * The real `LogStreamReader`: CloudWatch Logs `GetLogEvents` with `startFromHead` through
 * `@aws-sdk/client-cloudwatch-logs` (credentials from the SDK's default chain, the Organization's region).
 */
import { CloudWatchLogsClient, GetLogEventsCommand, type CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';
import { CanceledError, EngineError } from '../../../errors.js';
import { awsCallCode } from '../../../error-codes.js';
import type { LogStreamReader } from './task-logs.js';

/** The real reader: `GetLogEvents` with `startFromHead`. Throws an EngineError naming the stream when CloudWatch refuses. */
export function createCloudWatchLogReader(opts: { client?: CloudWatchLogsClientConfig } = {}): LogStreamReader {
  let client: CloudWatchLogsClient | undefined;
  const logs = (): CloudWatchLogsClient => (client ??= new CloudWatchLogsClient({ ...opts.client }));
  return {
    async read(group, stream, token, signal) {
      try {
        const res = await logs().send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true, ...(token ? { nextToken: token } : {}) }), { abortSignal: signal });
        return { messages: (res.events ?? []).map((e) => e.message ?? ''), token: res.nextForwardToken ?? token };
      } catch (err) {
        if (signal.aborted) throw new CanceledError(`canceled while reading ${group} ${stream}`, { cause: err });
        const e = err as Error;
        // The awslogs driver creates the stream when the container starts.
        if (e.name === 'ResourceNotFoundException') return { messages: [], token, missing: true };
        throw new EngineError(`CloudWatch Logs GetLogEvents of ${group} ${stream} failed: ${e.name}: ${e.message}; check the permission logs:GetLogEvents`, {
          code: awsCallCode(e, 'E_AWS_LOGS'),
          cause: err,
          data: { error: e.name },
        });
      }
    },
  };
}

