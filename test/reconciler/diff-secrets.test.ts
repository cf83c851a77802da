import t from 'tap';
import { secretValueChanges } from '../../src/reconciler/diff-secrets.js';
import { app, stage } from '../helpers/models.js';

const withToken = (env: Record<string, string | { secret: string }>) => stage({ name: 'dev', apps: { web: app({ command: ['node', 'a.js'], env }) } });

t.test('a secret whose value digest changed is an update of that env entry; unknown digests are not', async (t) => {
  const model = withToken({ API_TOKEN: { secret: 'API_TOKEN' }, MODE: 'live' });
  const actual = { model, serial: '1', secretDigests: { API_TOKEN: 'hmac-sha256:aa' } };
  t.same(secretValueChanges(model, actual, { API_TOKEN: 'hmac-sha256:aa' }), [], 'same digest: no change');
  const [change, ...rest] = secretValueChanges(model, actual, { API_TOKEN: 'hmac-sha256:bb' });
  t.same(rest, []);
  t.match(change, { op: 'update', subject: 'app/web', path: 'env.API_TOKEN', before: '(secret API_TOKEN)', after: '(secret API_TOKEN)', reason: 'value changed', dataLoss: false });
  t.equal(change!.command, 'setops --project shop --stage dev --app web env:set --secret API_TOKEN  # value: secret API_TOKEN', 'never a literal that would set the placeholder');
  t.same(secretValueChanges(model, actual, {}), [], 'a secret that cannot be read now: no change claimed');
  t.same(secretValueChanges(model, { model, serial: '1' }, { API_TOKEN: 'hmac-sha256:bb' }), [], 'state recorded before digests: no change claimed');
  const renamed = withToken({ API_TOKEN: { secret: 'OTHER' }, MODE: 'live' });
  t.same(secretValueChanges(renamed, actual, { OTHER: 'hmac-sha256:cc' }), [], 'a changed reference is the ordinary diff\'s change, not this one');
  t.same(secretValueChanges(null, actual, { API_TOKEN: 'x' }), []);
});
