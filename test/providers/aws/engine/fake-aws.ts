/**
 * A fake AWS JSON-protocol endpoint (ECS, SSM: `X-Amz-Target` + JSON body) on 127.0.0.1 for the
 * real SDK clients: records every request and answers from a function. Closed on teardown.
 */
import type { Test } from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsRequest {
  /** `X-Amz-Target`, e.g. `AmazonSSM.GetParameters`. */
  target: string;
  body: Record<string, any>;
  authorization: string;
}

export interface AwsAnswer {
  status?: number;
  body: unknown;
}

/** Dummy static credentials for the fake endpoint. */
export const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDTESTONLY', secretAccessKey: 'test-only-secret' };

export async function fakeAws(t: Test, answer: (req: AwsRequest, n: number) => AwsAnswer): Promise<{ url: string; requests: AwsRequest[] }> {
  const requests: AwsRequest[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const r: AwsRequest = {
        target: String(req.headers['x-amz-target'] ?? ''),
        body: JSON.parse(text || '{}') as Record<string, any>,
        authorization: String(req.headers.authorization ?? ''),
      };
      requests.push(r);
      const a = answer(r, requests.length);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}
