import * as pulumi from '@pulumi/pulumi';

/** One IAM policy statement; `Resource` may hold outputs. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: pulumi.Input<string>[] | pulumi.Input<string>;
  Principal?: Record<string, unknown> | '*';
  Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

/** A policy document as a JSON string output (statements in the given order). */
export function policyDocument(statements: Statement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: '2012-10-17', Statement: statements });
}

/** The trust policy that lets ECS tasks assume a role. */
export function ecsTasksTrustPolicy(): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
}
