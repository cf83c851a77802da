import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import type { Network } from '../network.js';
import { buildDocumentdb } from './documentdb.js';
import { buildElasticsearch } from './elasticsearch.js';
import { buildPostgresql } from './postgresql.js';
import { buildRedis } from './redis.js';
import { buildS3 } from './s3.js';
import type { BuiltService } from './types.js';
import { buildVolume } from './volume.js';

export type { BuiltService, ServiceConnection } from './types.js';

/** Builds one service by its type. */
export function buildService(ctx: ProgramContext, network: Network, name: string, model: ServiceModel): BuiltService {
  switch (model.type) {
    case 'postgresql':
      return buildPostgresql(ctx, network, name, model);
    case 'redis':
      return buildRedis(ctx, network, name, model);
    case 's3':
      return buildS3(ctx, name, model);
    case 'volume':
      return buildVolume(ctx, network, name, model);
    case 'documentdb':
      return buildDocumentdb(ctx, network, name, model);
    case 'elasticsearch':
      return buildElasticsearch(ctx, network, name, model);
  }
}
