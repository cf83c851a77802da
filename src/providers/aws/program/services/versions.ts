/** Engine versions as each AWS service wants them, from the manifest's `version`. */

/** ElastiCache wants major.minor for Redis 7 (`7` → `7.1`); `6` → `6.x` (the latest 6). */
export function redisEngineVersion(version: string | undefined): string {
  const v = version ?? '7';
  if (v.includes('.')) return v;
  return v === '6' ? '6.x' : `${v}.1`;
}

/** DocumentDB versions are `major.0.0` (`4` → `4.0.0`); default 5. */
export function documentdbEngineVersion(version: string | undefined): string {
  const v = version ?? '5';
  return v.includes('.') ? v : `${v}.0.0`;
}

/** `7` → `Elasticsearch_7.10` (the last Elasticsearch on OpenSearch Service); `OpenSearch_…`/`Elasticsearch_…` kept. */
export function elasticsearchEngineVersion(version: string | undefined): string {
  const v = version ?? '7';
  if (/^(Elasticsearch|OpenSearch)_/.test(v)) return v;
  return `Elasticsearch_${v === '7' ? '7.10' : v}`;
}
