/** Client settings the engine's AWS SDK clients share. */
export interface AwsClientSettings {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * AWS SDK client settings from the engine's environment (`Deps.env`, which is `process.env` in
 * the CLI): the Organization's region; the endpoint override the SDK itself honours
 * (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`); static credentials when
 * `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set (the first link of the SDK's default
 * chain), otherwise none, so the SDK's default chain (profiles, SSO, container and instance
 * roles) decides. Reading them from `Deps.env` keeps the engine testable in-process.
 */
export function awsClientSettings(env: Record<string, string | undefined>, service: 'ECS' | 'SSM' | 'CLOUDWATCH_LOGS' | 'RDS' | 'DOCDB' | 'ELASTICACHE', region: string | undefined): AwsClientSettings {
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL;
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(id && secret ? { credentials: { accessKeyId: id, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } } : {}),
  };
}
