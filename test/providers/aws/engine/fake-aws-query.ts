/**
 * A fake AWS query-protocol endpoint (RDS, DocumentDB, ElastiCache: a form-encoded POST with
 * `Action` and `Version`, an XML answer) on 127.0.0.1 for the real SDK clients: records every
 * request's parameters and answers each from a function with the inner XML of
 * `<ActionResult>`, or an `<ErrorResponse>`. Closed on teardown.
 */
import type { Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface QueryRequest {
  action: string;
  /** Every form parameter, e.g. `DBInstanceIdentifier`, `Tags.Tag.1.Key`. */
  params: Record<string, string>;
  authorization: string;
}

export type QueryAnswer = { xml: string } | { status: number; error: { code: string; message: string } };

export async function fakeAwsQuery(t: Test, answer: (req: QueryRequest, n: number) => QueryAnswer): Promise<{ url: string; requests: QueryRequest[] }> {
  const requests: QueryRequest[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(text));
      const r: QueryRequest = { action: params.Action ?? '', params, authorization: String(req.headers.authorization ?? '') };
      requests.push(r);
      const a = answer(r, requests.length);
      const id = `req-${requests.length}`;
      res.writeHead('error' in a ? a.status : 200, { 'content-type': 'text/xml' });
      res.end(
        'error' in a
          ? `<ErrorResponse><Error><Type>Sender</Type><Code>${a.error.code}</Code><Message>${a.error.message}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`
          : `<${r.action}Response><${r.action}Result>${a.xml}</${r.action}Result><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></${r.action}Response>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}
