import { connect, type Socket } from 'node:net';

/** A reply of the redis protocol (RESP2): simple strings, errors, integers, bulk strings, arrays. */
export type RespValue = string | number | null | Error | RespValue[];

/**
 * A minimal redis client for the few commands backups send (AUTH, BGSAVE, INFO, CONFIG, REPLICAOF,
 * DBSIZE): one connection to 127.0.0.1, commands in order, replies parsed as they arrive. Errors
 * of redis come back as Error values; a broken connection rejects every pending command.
 */
export class RespClient {
  private buf = Buffer.alloc(0);
  private readonly pending: { resolve(v: RespValue): void; reject(e: Error): void }[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const parsed = parse(this.buf, 0);
        if (parsed === undefined) break;
        this.buf = this.buf.subarray(parsed.end);
        this.pending.shift()?.resolve(parsed.value);
      }
    });
    const fail = (err: Error) => {
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Connects and, with a password, authenticates (the password never leaves this connection). */
  static async open(port: number, password: string | undefined, timeoutMs = 10_000): Promise<RespClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => s.destroy(new Error(`no connection to 127.0.0.1:${port} within ${timeoutMs} ms`)), timeoutMs);
      s.once('connect', () => (clearTimeout(timer), resolve(s)));
      s.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
    const client = new RespClient(socket);
    if (password !== undefined) {
      const r = await client.call('AUTH', password);
      if (r instanceof Error) {
        client.close();
        throw new Error(`redis on port ${port} refused AUTH`);
      }
    }
    return client;
  }

  call(...args: string[]): Promise<RespValue> {
    const frame = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(frame);
    });
  }

  /** Like `call`, but a redis error reply is thrown. */
  async ok(...args: string[]): Promise<RespValue> {
    const r = await this.call(...args);
    if (r instanceof Error) throw new Error(`redis ${args[0]}: ${r.message}`);
    return r;
  }

  /** `INFO section` as key → value. */
  async info(section: string): Promise<Record<string, string>> {
    const text = String(await this.ok('INFO', section));
    return Object.fromEntries(text.split('\r\n').filter((l) => l.includes(':') && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
  }

  close(): void {
    this.socket.destroy();
  }
}

function parse(buf: Buffer, at: number): { value: RespValue; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, eol);
  switch (type) {
    case '+':
      return { value: line, end: eol + 2 };
    case '-':
      return { value: new Error(line), end: eol + 2 };
    case ':':
      return { value: Number(line), end: eol + 2 };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      if (buf.length < eol + 2 + n + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      const items: RespValue[] = [];
      let end = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, end);
        if (item === undefined) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`redis protocol: unexpected reply type ${JSON.stringify(type)}`);
  }
}
