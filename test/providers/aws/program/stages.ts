/** The stages the AWS program tests run: the examples/aws manifests, the edge cases and the posture stages. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDesired } from '../../../../src/manifests/load.js';
import { readDirectory } from '../../../../src/manifests/source-dir.js';
import type { StageModel } from '../../../../src/model/stage-model.js';
import { app, service, stage } from '../../../helpers/models.js';
import { AWS_ORG, IMAGE, edgeCases } from './edge-cases.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The example stages from examples/aws, loaded like `setopsd validate examples/aws`. */
export async function exampleStages(): Promise<Record<string, StageModel>> {
  const loaded = loadDesired(await readDirectory(join(root, 'examples/aws')));
  if (!loaded.ok) throw new Error(`examples/aws does not load: ${JSON.stringify(loaded.issues)}`);
  return Object.fromEntries(loaded.value.stages.map((s) => [`example-${s.stage.name}`, s]));
}

/** A shop with a public app with a domain, a worker, postgresql, redis and elasticsearch; protected or not. */
export function shopStage(protectedStage: boolean, over: { vpcId?: string } = {}): StageModel {
  return stage({
    name: protectedStage ? 'production' : 'staging',
    organization: over.vpcId ? { provider: 'aws', aws: { region: 'eu-west-1', vpcId: over.vpcId } } : AWS_ORG,
    protected: protectedStage,
    apps: {
      web: app({ image: IMAGE, public: true, domains: { 'shop.acme.example': { primary: true } }, links: { database: {}, cache: {}, search: {} } }),
      worker: app({ image: IMAGE }),
    },
    services: {
      database: service('postgresql', { plan: 'db.t4g.small', deletionProtection: protectedStage }),
      cache: service('redis', { plan: 'cache.t4g.small', deletionProtection: protectedStage }),
      search: service('elasticsearch', { deletionProtection: protectedStage }),
    },
  });
}

/** Every stage of the program tests, by name. */
export async function allTestStages(): Promise<Record<string, StageModel>> {
  return { ...(await exampleStages()), ...edgeCases(), 'shop-protected': shopStage(true), 'shop-unprotected': shopStage(false) };
}
