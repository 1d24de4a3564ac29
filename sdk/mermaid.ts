import type { JobState } from './states.js';
import { isWorkflow, type Workflow } from './workflow.js';
import type { WorkflowStatus } from './workflow-context.js';

interface DrawnStep {
  readonly name: string;
  readonly deps: readonly string[];
  readonly state?: JobState;
}

/** Fill colours of steps by state, for a status drawing. */
const stateStyles: Record<JobState, string> = {
  available: 'fill:#e8f0fe,stroke:#4a6fa5',
  scheduled: 'fill:#e8f0fe,stroke:#4a6fa5,stroke-dasharray:4',
  executing: 'fill:#fff4ce,stroke:#b58900',
  retryable: 'fill:#ffe3c2,stroke:#cb4b16',
  completed: 'fill:#d9f2d9,stroke:#2e7d32',
  discarded: 'fill:#f8d7da,stroke:#a4161a',
  cancelled: 'fill:#eeeeee,stroke:#777777',
  held: 'fill:#ffffff,stroke:#999999,stroke-dasharray:2',
};

/**
 * Draws a workflow as a Mermaid flowchart: each step a box, each dep an arrow, each
 * sub-workflow a subgraph. Given `koban.workflowStatus(id)`, each box also shows and is coloured
 * by its step's state.
 */
export function toMermaid(source: Workflow<any, any> | WorkflowStatus): string {
  const steps: DrawnStep[] = isWorkflow(source)
    ? source.steps.map((step) => ({ name: step.name, deps: step.deps }))
    : (source as WorkflowStatus).steps.map((step) => ({
        name: step.name,
        deps: step.deps,
        state: step.state,
      }));
  const ids = new Map(steps.map((step, index) => [step.name, `s${index}`]));
  const lines = ['flowchart TD'];
  const box = (step: DrawnStep) => {
    const label = step.name.slice(step.name.lastIndexOf('.') + 1);
    const text = step.state ? `${label}<br/><i>${step.state}</i>` : label;
    return `${ids.get(step.name)}["${quoteLabel(text)}"]`;
  };
  // Steps of a sub-workflow are named `group.step`: draw each group as a subgraph.
  const groups = new Map<string, DrawnStep[]>();
  for (const step of steps) {
    const group = step.name.includes('.') ? step.name.slice(0, step.name.lastIndexOf('.')) : '';
    const members = groups.get(group);
    if (members) members.push(step);
    else groups.set(group, [step]);
  }
  for (const [group, members] of groups) {
    if (group === '') {
      for (const step of members) lines.push(`  ${box(step)}`);
      continue;
    }
    lines.push(`  subgraph ${group.replace(/[^A-Za-z0-9_]/g, '_')}["${quoteLabel(group)}"]`);
    for (const step of members) lines.push(`    ${box(step)}`);
    lines.push('  end');
  }
  for (const step of steps) {
    for (const dep of step.deps) {
      const from = ids.get(dep);
      if (from) lines.push(`  ${from} --> ${ids.get(step.name)}`);
    }
  }
  const states = new Set(steps.flatMap((step) => (step.state ? [step.state] : [])));
  for (const state of states) {
    lines.push(`  classDef ${state} ${stateStyles[state]}`);
    const members = steps.filter((step) => step.state === state).map((step) => ids.get(step.name));
    lines.push(`  class ${members.join(',')} ${state}`);
  }
  return `${lines.join('\n')}\n`;
}

function quoteLabel(text: string): string {
  return text.replace(/"/g, '#quot;');
}
