import type * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';

/** How one public app is reached from outside. */
export interface PublicTarget {
  targetGroup: aws.lb.TargetGroup;
  /** The load balancer's security group: the only source allowed to the app's port. */
  sourceSecurityGroup: aws.ec2.SecurityGroup;
  /** Listener and rules the ECS service must wait for (a target group must belong to a load balancer). */
  dependsOn: pulumi.Resource[];
  /** `https://<primary domain>`, `http://<alb>` for the default app, `tcp://<nlb>:<port>`; absent: not reachable by name. */
  url?: pulumi.Output<string>;
  certificateArn?: pulumi.Output<string>;
}

/** The stage's load balancers and public apps. */
export interface Ingress {
  alb?: aws.lb.LoadBalancer;
  nlb?: aws.lb.LoadBalancer;
  targets: Record<string, PublicTarget>;
}
