/**
 * Sharing gradient runs over the samples among methods: one run per ReLU rule, and a gradient the
 * rule cannot change (Grad-CAM's, at a block with no ReLU above it) rides along with any rule.
 */
import type { GradientRowsRequest, RowGradients } from './pipeline.js';

/** One run and the requests it serves. */
export interface SharedRun {
  request: GradientRowsRequest;
  members: GradientRowsRequest[];
}

const ruleOf = (r: GradientRowsRequest) => r.reluRule ?? 'vanilla';

/** Identity of a request: its wrt tensors, outputs and ReLU rule. */
export function requestKey(r: GradientRowsRequest): string {
  return JSON.stringify([r.wrt, r.outputs ?? [], ruleOf(r)]);
}

/**
 * Group requests into runs: requests under one ReLU rule share a run (the union of their `wrt` and
 * `outputs`); a request whose gradients the rule cannot change (`ruleFree`) joins the run of its own
 * rule where a request needing that rule exists, else the first run whose rule matters.
 *
 * @example
 * ```ts
 * const guided = { wrt: ['x'], reluRule: 'guided' as const };
 * const layer = { wrt: ['block4'], outputs: ['block4'] };
 * shareRuns([guided, layer], (r) => r === layer);
 * // [{ request: { wrt: ['x', 'block4'], outputs: ['block4'], reluRule: 'guided' }, members: [guided, layer] }]
 * ```
 */
export function shareRuns(
  requests: readonly GradientRowsRequest[],
  ruleFree: (r: GradientRowsRequest) => boolean,
): SharedRun[] {
  const unique = [...new Map(requests.map((r) => [requestKey(r), r])).values()];
  const free = new Set(unique.filter(ruleFree));
  const needed = [...new Set(unique.filter((r) => !free.has(r)).map(ruleOf))];
  const groups = new Map<string, GradientRowsRequest[]>();
  for (const r of unique) {
    const rule = free.has(r) && !needed.includes(ruleOf(r)) ? (needed[0] ?? ruleOf(r)) : ruleOf(r);
    groups.set(rule, [...(groups.get(rule) ?? []), r]);
  }
  return [...groups].map(([rule, members]) => {
    const outputs = [...new Set(members.flatMap((m) => m.outputs ?? []))];
    return {
      request: {
        wrt: [...new Set(members.flatMap((m) => m.wrt))],
        ...(outputs.length > 0 ? { outputs } : {}),
        ...(rule === 'vanilla' ? {} : { reluRule: rule as GradientRowsRequest['reluRule'] }),
      },
      members,
    };
  });
}

/** The part of a shared run's result that one member asked for. */
export function memberResult(all: RowGradients, member: GradientRowsRequest): RowGradients {
  return {
    gradients: Object.fromEntries(member.wrt.map((w) => [w, all.gradients[w]])),
    outputs: Object.fromEntries((member.outputs ?? []).map((o) => [o, all.outputs[o]])),
  };
}
