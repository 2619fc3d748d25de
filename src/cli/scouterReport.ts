/**
 * The report's SCOUTER panels: beside the predicted class's map (which `--method all` gives),
 * the maps of the two runner-up classes. For SCOUTER− these say why the image is not that class;
 * for SCOUTER+ they show the evidence the runner-ups found.
 */
import type { ModelCard } from '../data/card.js';
import { Explainer, explain, findMethod, paramsOf } from '../methods/attribution/index.js';
import { renderAttribution } from '../render/attribution.js';
import type { ReportMethod } from '../render/report.js';
import type { ConvlensModel } from '../runtime/model.js';
import type { ExplainOutcome } from './explainJob.js';
import type { ExplainInputs } from './inputs.js';

/** Per sample, one report panel per runner-up class (ranks 2 and 3 of the prediction). */
export async function scouterRunnerUps(
  m: ConvlensModel,
  card: ModelCard,
  inputs: ExplainInputs,
  outcome: ExplainOutcome,
): Promise<ReportMethod[][]> {
  const lambda = card.scouter?.lambda;
  const panels: ReportMethod[][] = inputs.stems.map(() => []);
  if (lambda === undefined) return panels;
  const method = findMethod('scouter');
  // One explainer for both ranks: the attention of every class comes from one forward pass.
  const explainer = new Explainer(m, inputs.input, { logits: card.tensors?.logits });
  for (const rank of [1, 2]) {
    if (outcome.top.some((top) => top.length <= rank)) continue;
    const indices = outcome.top.map((top) => top[rank].index);
    const started = performance.now();
    const r = await explain(explainer, {
      methods: ['scouter'],
      target: { kind: 'classes', indices },
    });
    const map = r.maps[0];
    const ms = performance.now() - started;
    inputs.images.forEach((image, i) => {
      const label = card.classes[indices[i]] ?? String(indices[i]);
      panels[i].push({
        name: 'scouter',
        title: lambda < 0 ? `SCOUTER−: why not ${label}` : `SCOUTER+: evidence for ${label}`,
        reference: method.reference,
        image: renderAttribution(map, i, image).image,
        target: label,
        params: paramsOf(map, i),
        ms,
      });
    });
  }
  return panels;
}
