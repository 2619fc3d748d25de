#!/usr/bin/python3
"""The PyTorch side of `npm run bench:vs-torch`: a long-lived worker that exports torchvision
classifiers (seeded random weights) to ONNX and times each attribution method written in plain
PyTorch autograd, one JSON request per line on stdin, one JSON answer per line on stdout.

Needs Debian's python3-torch and python3-torchvision (for /usr/bin/python3). Nothing is downloaded.
"""
import json
import sys
import time
import warnings

import numpy as np
import torch
import torchvision.models as tvm

NETS = {"resnet18": tvm.resnet18, "resnet50": tvm.resnet50, "mobilenet_v2": tvm.mobilenet_v2}
ROWS = 32  # rows per batched pass, as convlens's default --batch


def build(name):
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = NETS[name]()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
        # Backward hooks need ReLUs that do not overwrite their input.
        if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6)):
            m.inplace = False
    model.eval()
    layer = model.layer4 if hasattr(model, "layer4") else model.features[-1]
    return model, layer


class Hooks:
    """ReLU backward rules (guided: relu(g)·[x > 0]; deconvnet: relu(g)), hooked only while a call
    needs them (a registered hook slows every backward pass), and a layer's activation."""

    def __init__(self, model, layer):
        self.relus = [m for m in model.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))]
        self.rule = "vanilla"
        self.act = None
        layer.register_forward_hook(self.keep)

    def relu_backward(self, module, grad_in, grad_out):
        if self.rule == "guided":
            return (grad_in[0].clamp(min=0),)
        return (grad_out[0].clamp(min=0),)

    def keep(self, module, inputs, output):
        if self.act is not None:
            self.act = output


def one_hot(out, classes):
    return torch.zeros_like(out).scatter_(1, classes.view(-1, 1), 1.0)


def top(model, x):
    with torch.no_grad():
        return model(x).argmax(1)


def input_gradient(model, hooks, x, rule, classes=None):
    """d S_c / d x by torch.autograd.grad (no parameter gradients are computed, as in Captum)."""
    handles = [] if rule == "vanilla" else [m.register_full_backward_hook(hooks.relu_backward) for m in hooks.relus]
    hooks.rule = rule
    try:
        x = x.detach().clone().requires_grad_(True)
        out = model(x)
        (g,) = torch.autograd.grad(out, x, one_hot(out, out.argmax(1) if classes is None else classes))
    finally:
        for h in handles:
            h.remove()
    return g


def rows_gradient(model, hooks, rows, classes):
    grads = []
    for s in range(0, rows.shape[0], ROWS):
        grads.append(input_gradient(model, hooks, rows[s : s + ROWS], "vanilla", classes[s : s + ROWS]))
    return torch.cat(grads)


def layer_gradient(model, hooks, x):
    """The hooked layer's activation A and d S_c / d A for the top class c, in one forward and backward."""
    hooks.act = True  # arm the forward hook
    out = model(x)
    a = hooks.act
    hooks.act = None
    (g,) = torch.autograd.grad(out, a, one_hot(out, out.argmax(1)))
    return a.detach(), g


def gradcam(model, hooks, x):
    a, g = layer_gradient(model, hooks, x)
    return torch.relu((g.mean((2, 3), keepdim=True) * a).sum(1))


def gradcam_plus_plus(model, hooks, x):
    """Chattopadhyay et al. 2018, eqs. 10 and 19: alpha = g^2 / (2 g^2 + sum_ab A * g^3), 0 where g = 0."""
    a, g = layer_gradient(model, hooks, x)
    g2 = g * g
    denominator = 2 * g2 + a.sum((2, 3), keepdim=True) * g2 * g
    alpha = torch.where(denominator != 0, g2 / torch.where(denominator != 0, denominator, torch.ones_like(g)), 0.0)
    w = (alpha * torch.relu(g)).sum((2, 3), keepdim=True)
    return torch.relu((w * a).sum(1))


def layercam(model, hooks, x):
    a, g = layer_gradient(model, hooks, x)
    return torch.relu((torch.relu(g) * a).sum(1))


def guided_gradcam(model, hooks, x):
    guided = input_gradient(model, hooks, x, "guided")
    cam = gradcam(model, hooks, x)
    up = torch.nn.functional.interpolate(cam.unsqueeze(1), size=x.shape[2:], mode="bilinear", align_corners=False)
    return guided * up


def score_cam(model, hooks, x):
    """Wang et al. 2020: s_k = softmax(f(x * norm(up(A_k))))_c; map = ReLU(sum_k s_k A_k). Channels whose
    map is zero everywhere are skipped (their term is 0), masked copies run ROWS at a time."""
    with torch.no_grad():
        hooks.act = True
        out = model(x)
        a = hooks.act
        hooks.act = None
        classes = out.argmax(1)
        maps = []
        for i in range(x.shape[0]):
            live = (a[i].abs().amax((1, 2)) > 0).nonzero().flatten()
            up = torch.nn.functional.interpolate(a[i : i + 1, live], size=x.shape[2:], mode="bilinear", align_corners=False)[0]
            lo = up.amin((1, 2), keepdim=True)
            span = up.amax((1, 2), keepdim=True) - lo
            masks = torch.where(span > 0, (up - lo) / torch.where(span > 0, span, torch.ones_like(span)), 0.0)
            scores = torch.zeros(a.shape[1])
            for s in range(0, live.numel(), ROWS):
                rows = x[i : i + 1] * masks[s : s + ROWS].unsqueeze(1)
                scores[live[s : s + ROWS]] = torch.softmax(model(rows), 1)[:, classes[i]]
            maps.append(torch.relu((scores.view(-1, 1, 1) * a[i]).sum(0)))
        return torch.stack(maps)


def integrated_gradients(model, hooks, x, steps=50):
    classes = top(model, x)
    n = x.shape[0]
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    path = (alphas.view(1, steps, 1, 1, 1) * x.unsqueeze(1)).reshape(n * steps, *x.shape[1:])
    g = rows_gradient(model, hooks, path, classes.repeat_interleave(steps))
    return x * g.view(n, steps, *x.shape[1:]).mean(1)


def smoothgrad(model, hooks, x, samples=25, sigma=0.15):
    classes = top(model, x)
    n = x.shape[0]
    span = (x.amax((1, 2, 3)) - x.amin((1, 2, 3))).view(n, 1, 1, 1, 1)
    noisy = (x.unsqueeze(1) + sigma * span * torch.randn(n, samples, *x.shape[1:])).reshape(n * samples, *x.shape[1:])
    g = rows_gradient(model, hooks, noisy, classes.repeat_interleave(samples))
    return g.view(n, samples, *x.shape[1:]).mean(1)


def occlusion(model, x, window=15, stride=8):
    with torch.no_grad():
        out = model(x)
        classes = out.argmax(1)
        base = out.gather(1, classes.view(-1, 1)).squeeze(1)
        h, w = x.shape[2:]
        cells = [(y, xx) for y in range(0, h - window + 1, stride) for xx in range(0, w - window + 1, stride)]
        maps = torch.zeros(x.shape[0], h, w)
        for i in range(x.shape[0]):
            for s in range(0, len(cells), ROWS):
                chunk = cells[s : s + ROWS]
                rows = x[i : i + 1].repeat(len(chunk), 1, 1, 1)
                for k, (y, xx) in enumerate(chunk):
                    rows[k, :, y : y + window, xx : xx + window] = 0
                drop = base[i] - model(rows)[:, classes[i]]
                for k, (y, xx) in enumerate(chunk):
                    maps[i, y : y + window, xx : xx + window] += drop[k]
        return maps


CAMS = {
    "gradcam": gradcam,
    "gradcam++": gradcam_plus_plus,
    "layercam": layercam,
    "guided-gradcam": guided_gradcam,
    "score-cam": score_cam,
}


def main():
    warnings.filterwarnings("ignore")
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    nets = {}
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "export":
            model, layer = build(req["net"])
            x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
            torch.onnx.export(model, x, req["path"], opset_version=13, input_names=["input"],
                              output_names=["logits"], dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
            nets[req["net"]] = (model, Hooks(model, layer))
            answer = {"ok": True}
        elif cmd == "input":
            x = torch.randn(req["batch"], 3, 224, 224, generator=torch.Generator().manual_seed(2))
            x.numpy().astype(np.float32).tofile(req["path"])
            answer = {"ok": True}
        elif cmd == "time":
            model, hooks = nets[req["net"]]
            x = torch.from_numpy(np.fromfile(req["path"], dtype=np.float32).reshape(-1, 3, 224, 224))
            m = req["method"]
            t = time.perf_counter()
            if m == "forward":
                with torch.no_grad():
                    model(x)
            elif m in ("saliency", "guided-backprop", "deconvnet"):
                input_gradient(model, hooks, x, {"saliency": "vanilla", "guided-backprop": "guided"}.get(m, m))
            elif m in CAMS:
                CAMS[m](model, hooks, x)
            elif m == "ig":
                integrated_gradients(model, hooks, x)
            elif m == "smoothgrad":
                smoothgrad(model, hooks, x)
            elif m == "occlusion":
                occlusion(model, x)
            else:
                raise ValueError(f"unknown method {m}")
            answer = {"ms": (time.perf_counter() - t) * 1000}
        else:
            raise ValueError(f"unknown command {cmd}")
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
