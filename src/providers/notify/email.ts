import { createTransport } from 'nodemailer';
import type { SmtpModel } from '../../model/stage-model.js';
import type { Notice } from './notice.js';

/** One e-mail to send through the organization's SMTP server. */
export interface EmailDelivery {
  smtp: SmtpModel;
  /** The resolved SMTP password (`smtp.password`), when the server needs AUTH. */
  password?: string;
  to: string;
  notice: Notice;
  timeoutMs: number;
}

/**
 * Sends a plain-text notice through SMTP (nodemailer). STARTTLS is used when offered; a
 * self-signed certificate is refused unless the host is a loopback address. Never throws.
 */
export async function sendEmail(d: EmailDelivery): Promise<{ ok: true } | { ok: false; reason: string }> {
  const loopback = d.smtp.host === 'localhost' || d.smtp.host === '::1' || d.smtp.host.startsWith('127.');
  const transport = createTransport({
    host: d.smtp.host,
    port: d.smtp.port ?? (d.smtp.secure ? 465 : 587),
    secure: d.smtp.secure ?? false,
    ...(d.smtp.user !== undefined ? { auth: { user: d.smtp.user, pass: d.password ?? '' } } : {}),
    connectionTimeout: d.timeoutMs,
    greetingTimeout: d.timeoutMs,
    socketTimeout: d.timeoutMs,
    tls: { rejectUnauthorized: !loopback },
    logger: false,
  });
  try {
    await transport.sendMail({
      from: d.smtp.from,
      to: d.to,
      subject: `[setopsd] ${d.notice.title}`,
      text: `${d.notice.text}\n\n--\n${d.notice.event} · ${d.notice.stage} · ${d.notice.time}\n`,
      headers: { 'X-Setopsd-Event': d.notice.event, 'X-Setopsd-Delivery': d.notice.id },
    });
    return { ok: true };
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string };
    // nodemailer's messages can quote the server's reply, never the password; keep them short anyway.
    return { ok: false, reason: `${e.code ?? 'error'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${(e.message ?? String(err)).split('\n')[0]!.slice(0, 200)}` };
  } finally {
    transport.close();
  }
}
