/**
 * Golden plans of AWS stages whose databases are deleted: each delete line names what is kept —
 * the final snapshot the stack records for the database (`finalSnapshotIdentifier` of its RDS
 * instance, DocumentDB cluster or ElastiCache replication group, as the program named it), or
 * that the Service opted out (`finalSnapshot: false`). The recorded state is a checkpoint in
 * the stage's file backend (no Pulumi CLI: the resource preview is skipped with a note).
 * UPDATE_GOLDEN=1 rewrites plan.txt / plan.json; review the diff.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDesired } from '../../../../src/manifests/load.js';
import { readDirectory } from '../../../../src/manifests/source-dir.js';
import { runCli } from '../../../helpers/deps.js';
import { tempDir } from '../../../helpers/temp.js';
import { stageBackend, writeStackCheckpoint } from './checkpoint-file.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'aws-plans', 'databases-deleted');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const ref = { organization: 'globex', project: 'storefront', stage: 'staging' };
const project = 'setops-globex-storefront';
const resource = (type: string, name: string, inputs: Record<string, unknown>) => ({ urn: `urn:pulumi:staging::${project}::${type}::${name}`, custom: true, type, id: name, inputs, outputs: inputs });

function golden(file: string, got: string): string {
  if (UPDATE) writeFileSync(file, got);
  return readFileSync(file, 'utf8');
}

t.test('deleted databases: the plan names the final snapshot each keeps', async (t) => {
  const stateDir = tempDir(t, 'setopsd-aws-delete-plan-');
  const loaded = loadDesired(await readDirectory(join(dir, 'actual')));
  if (!loaded.ok) throw new Error(`actual/ does not load: ${JSON.stringify(loaded.issues)}`);
  writeStackCheckpoint(stageBackend(stateDir, ref), ref, loaded.value.stages[0]!, {
    resources: [
      { urn: `urn:pulumi:staging::${project}::pulumi:pulumi:Stack::${project}-staging`, custom: false, type: 'pulumi:pulumi:Stack', outputs: { setopsdStageModel: JSON.stringify(loaded.value.stages[0]) } },
      resource('aws:rds/instance:Instance', 'svc-database-db', { finalSnapshotIdentifier: 'globex-storefront-staging-database-final-20260301120000', skipFinalSnapshot: false }),
      resource('aws:docdb/cluster:Cluster', 'svc-catalog-docdb', { finalSnapshotIdentifier: 'globex-storefront-staging-catalog-final-20260301120000', skipFinalSnapshot: false }),
      resource('aws:elasticache/replicationGroup:ReplicationGroup', 'svc-cache-redis', {}),
    ],
  });
  const env = { PATH: join(stateDir, 'no-bin') };
  const text = await runCli(['plan', '--detailed-exitcode', join(dir, 'desired'), '--state-dir', stateDir], { env });
  t.equal(text.code, 2, 'changes to make');
  t.equal(text.stdout, golden(join(dir, 'plan.txt'), text.stdout), 'plan.txt');
  t.match(text.stdout, /- service\/database .*\(final snapshot globex-storefront-staging-database-final-20260301120000 is kept\) \[data loss\]/);
  t.match(text.stdout, /- service\/catalog .*\(final snapshot globex-storefront-staging-catalog-final-20260301120000 is kept\) \[data loss\]/);
  t.match(text.stdout, /- service\/cache .*\(no final snapshot: the service says finalSnapshot: false\) \[data loss\]/);
  const json = await runCli(['plan', join(dir, 'desired'), '--state-dir', stateDir, '--format', 'json'], { env });
  t.equal(json.stdout, golden(join(dir, 'plan.json'), json.stdout), 'plan.json');
});
