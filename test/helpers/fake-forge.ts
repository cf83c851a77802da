import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Teardown } from './temp.js';

/**
 * A local stand-in for the few GitHub and GitLab REST endpoints `setopsd comment` uses, on
 * 127.0.0.1, speaking their real protocol (paths, JSON bodies, status codes, Link / X-Next-Page
 * pagination) so the real clients (@octokit/rest, fetch) talk to it. Every request is recorded.
 *
 * GitHub: GET/POST /repos/:owner/:repo/issues/:n/comments, PATCH/DELETE
 * /repos/:owner/:repo/issues/comments/:id, POST /repos/:owner/:repo/statuses/:sha.
 * GitLab (under /api/v4): GET/POST /projects/:id/merge_requests/:iid/notes, PUT/DELETE …/notes/:id,
 * POST /projects/:id/statuses/:sha.
 */
export interface RecordedRequest {
  method: string;
  /** Path with the query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: any;
}

export interface FakeComment {
  id: number;
  /** `owner/repo#n` or `project!iid`. */
  target: string;
  body: string;
}

export interface FakeForge {
  url: string;
  /** GitLab's API root (`${url}/api/v4`). */
  gitlabUrl: string;
  requests: RecordedRequest[];
  comments: FakeComment[];
  statuses: { target: string; sha: string; body: any }[];
  /** The token requests must carry; others get 401. */
  token: string;
  /** Page size of list answers (small, to exercise pagination). */
  pageSize: number;
  /** Comments of one pull request, in id order. */
  on(target: string): FakeComment[];
}

export async function fakeForge(t: Teardown, opts: { token: string; pageSize?: number }): Promise<FakeForge> {
  let nextId = 1000;
  const forge: Omit<FakeForge, 'url' | 'gitlabUrl'> = {
    requests: [],
    comments: [],
    statuses: [],
    token: opts.token,
    pageSize: opts.pageSize ?? 30,
    on: (target) => forge.comments.filter((c) => c.target === target).sort((a, b) => a.id - b.id),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text === '' ? null : JSON.parse(text);
      forge.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(value === undefined ? '' : JSON.stringify(value));
      };
      const u = new URL(req.url!, 'http://127.0.0.1');
      const page = Number(u.searchParams.get('page') ?? '1');
      const perPage = Math.min(Number(u.searchParams.get('per_page') ?? '30'), forge.pageSize);
      let m: RegExpExecArray | null;
      if (u.pathname.startsWith('/api/v4/')) {
        if (req.headers['private-token'] !== forge.token && req.headers['job-token'] !== forge.token) return send(401, { message: '401 Unauthorized' });
        const path = decodeURIComponent(u.pathname.slice('/api/v4'.length));
        if ((m = /^\/projects\/(.+)\/merge_requests\/(\d+)\/notes$/.exec(path))) {
          const target = `${m[1]}!${m[2]}`;
          if (req.method === 'GET') {
            const all = forge.on(target);
            const slice = all.slice((page - 1) * perPage, page * perPage).map((c) => ({ id: c.id, body: c.body, system: false }));
            return send(200, slice, { 'x-next-page': page * perPage < all.length ? String(page + 1) : '' });
          }
          if (req.method === 'POST') {
            const c = { id: nextId++, target, body: String(body.body) };
            forge.comments.push(c);
            return send(201, { id: c.id, body: c.body });
          }
        }
        if ((m = /^\/projects\/(.+)\/merge_requests\/(\d+)\/notes\/(\d+)$/.exec(path))) {
          const c = forge.comments.find((x) => x.id === Number(m![3]) && x.target === `${m![1]}!${m![2]}`);
          if (!c) return send(404, { message: '404 Not found' });
          if (req.method === 'PUT') {
            c.body = String(body.body);
            return send(200, { id: c.id, body: c.body });
          }
          if (req.method === 'DELETE') {
            forge.comments.splice(forge.comments.indexOf(c), 1);
            return send(204, undefined);
          }
        }
        if ((m = /^\/projects\/(.+)\/statuses\/([0-9a-f]{40})$/.exec(path)) && req.method === 'POST') {
          forge.statuses.push({ target: m[1]!, sha: m[2]!, body });
          return send(201, { id: nextId++, status: body.state, name: body.name });
        }
        return send(404, { message: '404 Not found' });
      }
      if (req.headers.authorization !== `token ${forge.token}` && req.headers.authorization !== `Bearer ${forge.token}`) {
        return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      }
      if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(u.pathname))) {
        const target = `${m[1]}/${m[2]}#${m[3]}`;
        if (req.method === 'GET') {
          const all = forge.on(target);
          const slice = all.slice((page - 1) * perPage, page * perPage).map((c) => ({ id: c.id, body: c.body, html_url: `https://github.test/${m![1]}/${m![2]}/pull/${m![3]}#issuecomment-${c.id}` }));
          const more = page * perPage < all.length;
          const link: Record<string, string> = more ? { link: `<http://127.0.0.1:${(server.address() as AddressInfo).port}${u.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"` } : {};
          return send(200, slice, link);
        }
        if (req.method === 'POST') {
          const c = { id: nextId++, target, body: String(body.body) };
          forge.comments.push(c);
          return send(201, { id: c.id, body: c.body, html_url: `https://github.test/${m[1]}/${m[2]}/pull/${m[3]}#issuecomment-${c.id}` });
        }
      }
      if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(u.pathname))) {
        const c = forge.comments.find((x) => x.id === Number(m![3]) && x.target.startsWith(`${m![1]}/${m![2]}#`));
        if (!c) return send(404, { message: 'Not Found' });
        if (req.method === 'PATCH') {
          c.body = String(body.body);
          return send(200, { id: c.id, body: c.body });
        }
        if (req.method === 'DELETE') {
          forge.comments.splice(forge.comments.indexOf(c), 1);
          return send(204, undefined);
        }
      }
      if ((m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(u.pathname)) && req.method === 'POST') {
        forge.statuses.push({ target: `${m[1]}/${m[2]}`, sha: m[3]!, body });
        return send(201, { id: nextId++, state: body.state, context: body.context });
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // fetch keeps connections alive; they would hold the server open.
        server.closeAllConnections();
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(forge, { url, gitlabUrl: `${url}/api/v4` });
}
