/**
 * Local receivers for notifications on 127.0.0.1: an HTTP server that records webhook POSTs and
 * answers from a script (status codes, or `hang` to never answer), and an SMTP server
 * (`smtp-server`) that records messages and checks AUTH.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Teardown } from './temp.js';

export interface ReceivedPost {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What the receiver answers to the next requests, in order; after the script: 200. */
export type Answer = number | 'hang';

export async function webhookReceiver(t: Teardown, script: Answer[] = []): Promise<{ url: string; port: number; posts: ReceivedPost[]; script: Answer[] }> {
  const posts: ReceivedPost[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = state.script.shift() ?? 200;
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const state = { url: `http://127.0.0.1:${port}/hook`, port, posts, script };
  t.teardown(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

/** An SMTP server on 127.0.0.1 (no TLS); with `auth`, only that user and password are accepted. */
export async function smtpReceiver(t: Teardown, auth?: { user: string; password: string }): Promise<{ port: number; mails: ReceivedMail[]; authFailures: number }> {
  const state = { port: 0, mails: [] as ReceivedMail[], authFailures: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: auth === undefined,
    allowInsecureAuth: true,
    logger: false,
    onAuth(a, _session, cb) {
      if (auth && a.username === auth.user && a.password === auth.password) return cb(null, { user: a.username });
      state.authFailures++;
      cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return state;
}
