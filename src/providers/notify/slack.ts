import type { Notice } from './notice.js';

const EMOJI: Record<Notice['severity'], string> = { info: ':white_check_mark:', warning: ':warning:', error: ':rotating_light:' };

/**
 * A Slack-compatible body (incoming webhooks, Mattermost, Rocket.Chat): `text` as the fallback and
 * notification line, `blocks` with the title and the details. Slack's mrkdwn needs `&`, `<`, `>` escaped.
 */
export function slackBody(notice: Notice): { text: string; blocks: unknown[] } {
  const title = `${EMOJI[notice.severity]} ${escape(notice.title)}`;
  return {
    text: title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: escape(notice.text) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${notice.event} · ${notice.stage} · ${notice.time}` }] },
    ],
  };
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
