/**
 * Model composition: one model's graph appended to another's, its tensors renamed under a prefix
 * and its inputs wired to tensors of the host, so two networks (a generator and the network that
 * judges it) run, and are differentiated, as one graph in one session.
 */
import { defaultOpset, type Model } from './model.js';

/**
 * Append `guest` to `host` in place. Every guest tensor `t` becomes `prefix + t`, except graph
 * inputs named in `inputs`, which read the given host tensors; guest outputs are not added to the
 * host's outputs. Returns the renaming. Both models must use the same ai.onnx opset (an op's
 * meaning can change between versions) and the guest must not hold subgraphs.
 *
 * @example
 * ```ts
 * const rename = appendModel(generator, lossNet, { prefix: 'loss/', inputs: { input: 'image_out' } });
 * rename('relu2'); // 'loss/relu2', a tensor of the generator's graph now
 * ```
 */
export function appendModel(
  host: Model,
  guest: Model,
  options: { prefix: string; inputs: Record<string, string> },
): (name: string) => string {
  const [ho, go] = [defaultOpset(host), defaultOpset(guest)];
  if (ho !== go)
    throw new Error(
      `cannot compose a model of opset ${go} into one of opset ${ho}; both must use the same opset`,
    );
  for (const [domain, version] of Object.entries(guest.opsets))
    if (domain !== '' && domain !== 'ai.onnx' && host.opsets[domain] === undefined)
      host.opsets[domain] = version;
  const g = guest.graph;
  for (const name of Object.keys(options.inputs))
    if (!g.inputs.some((i) => i.name === name))
      throw new Error(
        `the appended model has no input "${name}"; its inputs: ${g.inputs.map((i) => i.name).join(', ')}`,
      );
  const unwired = g.inputs.filter((i) => !(i.name in options.inputs) && !g.initializers.has(i.name));
  if (unwired.length > 0)
    throw new Error(
      `input ${unwired.map((i) => `"${i.name}"`).join(', ')} of the appended model is not wired to the host`,
    );
  const rename = (name: string) => (name === '' ? '' : (options.inputs[name] ?? `${options.prefix}${name}`));
  const h = host.graph;
  const taken = new Set([
    ...h.inputs.map((i) => i.name),
    ...h.initializers.keys(),
    ...h.nodes.flatMap((n) => n.outputs),
  ]);
  for (const [name, t] of g.initializers) {
    const to = rename(name);
    if (taken.has(to)) throw new Error(`cannot compose: tensor "${to}" exists in both models`);
    h.initializers.set(to, t);
  }
  for (const n of g.nodes) {
    if (Object.values(n.attrs).some((a) => a.type === 'raw'))
      throw new Error(
        `cannot compose: node "${n.name}" (${n.opType}) holds a subgraph or an unusual attribute`,
      );
    const outputs = n.outputs.map(rename);
    for (const o of outputs)
      if (taken.has(o)) throw new Error(`cannot compose: tensor "${o}" exists in both models`);
    h.nodes.push({ ...n, name: `${options.prefix}${n.name}`, inputs: n.inputs.map(rename), outputs });
  }
  for (const [name, info] of g.valueInfo) h.valueInfo.set(rename(name), { ...info, name: rename(name) });
  return rename;
}
