/** Queries over the graph IR: topological order and lookup by tensor and node name. */
import type { Graph, Node } from './model.js';

/**
 * Nodes in topological order (stable: a node keeps its file position when its inputs allow).
 * Throws naming a node on a cycle or on an input that nothing produces.
 */
export function topologicalOrder(graph: Graph): Node[] {
  const available = new Set<string>(['', ...graph.inputs.map((v) => v.name), ...graph.initializers.keys()]);
  const producer = producers(graph);
  const state = new Map<Node, 1 | 2>();
  const order: Node[] = [];
  const visit = (root: Node): void => {
    // Iterative DFS: real networks are deep enough to overflow recursion.
    const stack: [Node, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      if (i === 0) {
        if (state.get(node) === 2) {
          stack.pop();
          continue;
        }
        state.set(node, 1);
      }
      if (i < node.inputs.length) {
        top[1]++;
        const name = node.inputs[i];
        if (available.has(name)) continue;
        const p = producer.get(name);
        if (!p)
          throw new Error(`node "${node.name}" (${node.opType}): input "${name}" is produced by no node`);
        if (state.get(p) === 1) throw new Error(`graph has a cycle through node "${p.name}" (${p.opType})`);
        if (state.get(p) !== 2) stack.push([p, 0]);
        continue;
      }
      state.set(node, 2);
      order.push(node);
      stack.pop();
    }
  };
  for (const n of graph.nodes) visit(n);
  return order;
}

/** Map from tensor name to the node that produces it. */
export function producers(graph: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** Map from tensor name to the nodes that read it. */
export function consumers(graph: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}

export function nodeByName(graph: Graph, name: string): Node | undefined {
  return graph.nodes.find((n) => n.name === name);
}

/** Every tensor name in the graph: inputs, initializers and node outputs. */
export function tensorNames(graph: Graph): string[] {
  const names = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.keys()]);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) names.add(o);
  return [...names];
}

/**
 * A namer for tensors added to `graph`: `name` itself when no tensor of the graph (input,
 * initializer, node input or output) has it, else `name_1`, `name_2`, …; each name is handed out once.
 * @example
 * const fresh = freshNamer(model.graph);
 * fresh('logits'); // 'logits', or 'logits_1' when the model already has one
 */
export function freshNamer(graph: Graph): (name: string) => string {
  const taken = new Set([
    ...graph.inputs.map((v) => v.name),
    ...graph.nodes.flatMap((n) => [...n.inputs, ...n.outputs]),
    ...graph.initializers.keys(),
  ]);
  return (name) => {
    let n = name;
    for (let k = 1; taken.has(n); k++) n = `${name}_${k}`;
    taken.add(n);
    return n;
  };
}

/** Levenshtein-nearest names, for "not found; nearest: ..." messages. */
export function nearestNames(name: string, candidates: string[], k = 3): string[] {
  const dist = (a: string, b: string): number => {
    const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let diag = prev[0];
      prev[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = prev[j];
        prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
        diag = tmp;
      }
    }
    return prev[b.length];
  };
  return [...candidates]
    .map((c) => [c, dist(name, c)] as const)
    .sort((x, y) => x[1] - y[1])
    .slice(0, k)
    .map(([c]) => c);
}

/** Every tensor that `targets` depend on (node outputs and inputs, the targets included). */
export function ancestors(graph: Graph, targets: readonly string[]): Set<string> {
  const made = producers(graph);
  const seen = new Set<string>();
  const stack = [...targets];
  while (stack.length) {
    const t = stack.pop()!;
    if (!t || seen.has(t)) continue;
    seen.add(t);
    const n = made.get(t);
    if (n) stack.push(...n.inputs);
  }
  return seen;
}
