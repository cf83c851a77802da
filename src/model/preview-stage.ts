import type { StageModel } from './stage-model.js';

/**
 * The model of a preview stage (`pr-<number>`) made from a stage of a pull request's branch:
 * the same apps and services, never protected, approved automatically, after no stage, without
 * custom domains, and without deletion protection (a preview holds no data beyond its own
 * services, which go with it). Pure.
 */
export function previewModel(from: StageModel, name: string): StageModel {
  const { after: _after, ...stage } = from.stage;
  return {
    ...from,
    stage: { ...stage, name, protected: false, approval: 'auto' },
    apps: Object.fromEntries(Object.entries(from.apps).map(([n, a]) => [n, { ...a, domains: {} }])),
    services: Object.fromEntries(Object.entries(from.services).map(([n, s]) => [n, { ...s, deletionProtection: false }])),
  };
}

/** The preview stage name of pull request `number`. */
export function previewStageName(number: number): string {
  return `pr-${number}`;
}
