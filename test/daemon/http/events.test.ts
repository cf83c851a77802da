import t from 'tap';
import { get, type IncomingMessage } from 'node:http';
import { SetopsError } from '../../../src/errors.js';
import { startHarness, waitFor } from './harness.js';
import { deployment } from './fixtures.js';

const ref = { organization: 'acme', project: 'shop', stage: 'staging' };

/** One SSE frame: its `event:` and `data:` lines, or a comment. */
interface Frame {
  event?: string;
  data?: string;
  comment?: string;
}

/** A client of `/api/v1/events` that collects frames as they arrive. */
async function openEvents(url: string): Promise<{ res: IncomingMessage; frames: Frame[]; close(): void }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${url}/api/v1/events`, resolve).on('error', reject));
  const frames: Frame[] = [];
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const frame: Frame = {};
      for (const line of buffer.slice(0, end).split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) frame.data = line.slice(6);
      }
      frames.push(frame);
      buffer = buffer.slice(end + 2);
    }
  });
  return { res, frames, close: () => res.destroy() };
}

t.test('a client receives the events published after it connected, and unsubscribes when it goes', async (t) => {
  const h = await startHarness(t);
  const client = await openEvents(h.server.url);
  t.equal(client.res.statusCode, 200);
  t.match(client.res.headers['content-type'], /^text\/event-stream/);
  t.equal(client.res.headers['cache-control'], 'no-store');
  await waitFor(() => client.frames.length >= 1, 'the connected comment');
  t.same(client.frames[0], { comment: 'connected' });
  t.equal(h.view.subscribers, 1, 'subscribed while connected');

  h.view.publish({ type: 'synced', revision: 'abc123', stages: 2, changed: ['acme/shop/staging'] });
  h.view.publish({ type: 'apply', stage: 'acme/shop/staging', event: { type: 'finished', ref, deployment: deployment({ number: 7 }), durationMs: 1500 } });
  h.view.publish({ type: 'apply', stage: 'acme/shop/staging', event: { type: 'refused', ref, error: new SetopsError('stage acme/shop/staging: secret API_KEY is not set', { code: 'E_SECRET_MISSING' }) } });
  await waitFor(() => client.frames.length >= 4, 'three events');
  const [synced, finished, refused] = client.frames.slice(1);
  t.equal(synced!.event, 'synced');
  t.same(JSON.parse(synced!.data!), { type: 'synced', revision: 'abc123', stages: 2, changed: ['acme/shop/staging'] });
  t.equal(finished!.event, 'apply');
  t.match(JSON.parse(finished!.data!), { type: 'apply', stage: 'acme/shop/staging', event: { type: 'finished', durationMs: 1500, deployment: { number: 7, status: 'succeeded' } } });
  t.same(JSON.parse(refused!.data!).event.error, { code: 'E_SECRET_MISSING', message: 'stage acme/shop/staging: secret API_KEY is not set' }, 'an error as { code, message }');

  client.close();
  await waitFor(() => h.view.subscribers === 0, 'the subscription to go');
  t.pass('unsubscribed after the client disconnected');
  await waitFor(() => h.logs().some((l) => l.msg === 'http request' && l.path === '/api/v1/events'), 'the stream logged once it ended');
  t.equal(h.logs().filter((l) => l.path === '/api/v1/events').length, 1);
});

t.test('a heartbeat comment keeps an idle stream open', async (t) => {
  const h = await startHarness(t, { events: { heartbeatMs: 20 } });
  const client = await openEvents(h.server.url);
  t.teardown(() => client.close());
  await waitFor(() => client.frames.filter((f) => f.comment === 'heartbeat').length >= 2, 'two heartbeats');
  t.pass('heartbeats arrive');
});

t.test('the daemon default heartbeat is every 15 s', async (t) => {
  const { EVENT_STREAM_DEFAULTS } = await import('../../../src/daemon/http/events.js');
  t.equal(EVENT_STREAM_DEFAULTS.heartbeatMs, 15_000);
});

t.test('closing the server ends the streams and unsubscribes them', async (t) => {
  const h = await startHarness(t);
  const a = await openEvents(h.server.url);
  const b = await openEvents(h.server.url);
  await waitFor(() => h.view.subscribers === 2, 'two subscribers');
  const ended = Promise.all([a, b].map((c) => new Promise<void>((resolve) => c.res.once('end', () => resolve()))));
  await h.server.close();
  await ended;
  t.equal(h.view.subscribers, 0);
});

t.test('more streams than allowed are refused with 503', async (t) => {
  const h = await startHarness(t, { events: { maxStreams: 1 } });
  const a = await openEvents(h.server.url);
  t.teardown(() => a.close());
  const b = await openEvents(h.server.url);
  t.equal(b.res.statusCode, 503);
  b.close();
  t.equal(h.view.subscribers, 1);
});
