import type { Command } from '../command.js';

/**
 * Every command, loaded lazily so `setopsd validate` does not load the Pulumi SDK.
 * The order here is the order of `setopsd --help`.
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: { summary: 'Check the manifests and print a summary', load: async () => (await import('./validate.js')).default },
  schema: { summary: 'Print the JSON Schema of a manifest kind', load: async () => (await import('./schema.js')).default },
  plan: { summary: 'Show the changeset of every stage', load: async () => (await import('./plan.js')).default },
  comment: { summary: 'Post the plan as a pull-request comment and keep it up to date', load: async () => (await import('./comment.js')).default },
  diff: { summary: 'Show what changes between the desired state of two commits', load: async () => (await import('./diff.js')).default },
  apply: { summary: 'Apply the changesets stage by stage', load: async () => (await import('./apply.js')).default },
  status: { summary: 'Show the deployed stages, their apps and services', load: async () => (await import('./status.js')).default },
  history: { summary: 'List the deployments of a stage', load: async () => (await import('./history.js')).default },
  show: { summary: 'Print one deployment: its changeset and the model it applied', load: async () => (await import('./show.js')).default },
  logs: { summary: "Print an app's logs", load: async () => (await import('./logs.js')).default },
  daemon: { summary: 'Follow the config repository and keep every stage converged', load: async () => (await import('./daemon.js')).default },
  approve: { summary: 'Approve the plan a daemon holds for a stage', load: async () => (await import('./approve.js')).default },
  retry: { summary: 'Have the daemon try a stalled or failed stage again', load: async () => (await import('./retry.js')).default },
  sync: { summary: 'Have the daemon read its source now', load: async () => (await import('./sync.js')).default },
  destroy: { summary: 'Remove everything of a stage', load: async () => (await import('./destroy.js')).default },
  rollback: { summary: 'Re-apply the model of an earlier deployment and pin the stage there', load: async () => (await import('./rollback.js')).default },
  pin: { summary: 'Keep a stage where it is: the branch is planned, not applied', load: async () => (await import('./pin.js')).default },
  unpin: { summary: 'Let the branch apply to a pinned stage again', load: async () => (await import('./unpin.js')).default },
  redeploy: { summary: 'Restart the apps of a stage without changing its model', load: async () => (await import('./redeploy.js')).default },
  promote: { summary: "Write a stage's app images into another stage's overrides (commit or patch)", load: async () => (await import('./promote.js')).default },
  stage: { summary: 'Clone, reset or remove a stage in the manifests (commit or patch)', load: async () => (await import('./stage.js')).default },
  task: { summary: "Run a one-off command in an app's environment; list the runs", load: async () => (await import('./task.js')).default },
  backup: { summary: 'Create, list and restore backups of a service', load: async () => (await import('./backup.js')).default },
};
