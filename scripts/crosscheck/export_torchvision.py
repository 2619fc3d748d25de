#!/usr/bin/python3
"""Export torchvision classifiers to ONNX and record PyTorch autograd's gradients for convlens.

Optional cross-check, never part of the default test run. Needs Debian's python3-torch,
python3-torchvision and python3-onnx (for /usr/bin/python3). Random weights: nothing is downloaded.

For every model, opset and BatchNorm mode it writes into OUT:
  CASE.onnx          torch.onnx.export of the model (eval mode)
  CASE.input.npy     the [1, 3, S, S] input
  CASE.logits.npy    PyTorch's logits
  CASE.grad.npy      d logit[class] / d input from autograd (float64 model, float32 result)
  CASE.grad32.npy    the same from the float32 model (PyTorch's own float32 noise floor)
and manifest.json listing the cases. scripts/crosscheck/compare.ts reads them.

Usage: /usr/bin/python3 scripts/crosscheck/export_torchvision.py OUT [--opsets 13,17] [--models a,b]
"""
import argparse
import warnings
import json
import os

import numpy as np
import torch
import torchvision.models as tvm

# name → (constructor, input size)
MODELS = {
    "resnet18": (lambda: tvm.resnet18(), 224),
    "vgg11_bn": (lambda: tvm.vgg11_bn(), 224),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(), 224),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(), 224),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(), 224),
    "densenet121": (lambda: tvm.densenet121(), 224),
    # torchvision's own GoogLeNet init (truncated normal, std 0.01) leaves the late maps of a
    # random net nearly flat, so max-pool windows tie at float32 precision and even PyTorch's
    # float32 gradient is 60% off its float64 one; PyTorch's default init keeps them apart.
    "googlenet": (lambda: tvm.googlenet(aux_logits=False, init_weights=False), 224),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(), 224),
    "shufflenet_v2_x1_0": (lambda: tvm.shufflenet_v2_x1_0(), 224),
    "regnet_y_400mf": (lambda: tvm.regnet_y_400mf(), 224),
    "convnext_tiny": (lambda: tvm.convnext_tiny(), 224),
}


def randomize_batchnorm(model, gen):
    """Random running statistics, so that BatchNorm (and its folding) is not the identity."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


def main():
    warnings.filterwarnings("ignore")
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--opsets", default="13,17")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--target", type=int, default=7)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    cases = []
    for name in a.models.split(","):
        if name not in MODELS:
            raise SystemExit(f"unknown model {name!r} (known: {', '.join(MODELS)})")
        make, size = MODELS[name]
        torch.manual_seed(0)
        model = make().eval()
        with torch.no_grad():
            randomize_batchnorm(model, gen)
        x = torch.rand(1, 3, size, size, generator=gen)
        # Reference gradient in float64 so that it is not limited by PyTorch's own rounding.
        m64 = make().eval()
        m64.load_state_dict(model.state_dict())
        m64 = m64.double()
        x64 = x.double().requires_grad_(True)
        logits64 = m64(x64)
        logits64[0, a.target].backward()
        grad = x64.grad.float().numpy()
        # PyTorch's own float32 gradient: its distance from the float64 one is the float32 noise
        # floor (ReLU kinks and near-tied max-pool windows flip between precisions).
        x32 = x.clone().requires_grad_(True)
        model(x32)[0, a.target].backward()
        grad32 = x32.grad.numpy()
        with torch.no_grad():
            logits = model(x).numpy()
        for opset in [int(o) for o in a.opsets.split(",")]:
            for bn in ("folded", "kept"):
                case = f"{name}-op{opset}-{bn}"
                path = os.path.join(a.out, case)
                mode = torch.onnx.TrainingMode.EVAL if bn == "folded" else torch.onnx.TrainingMode.PRESERVE
                torch.onnx.export(
                    model, x, path + ".onnx", opset_version=opset, training=mode,
                    do_constant_folding=True, input_names=["input"], output_names=["logits"],
                )
                np.save(path + ".input.npy", x.numpy())
                np.save(path + ".logits.npy", logits)
                np.save(path + ".grad.npy", grad)
                np.save(path + ".grad32.npy", grad32)
                cases.append({"case": case, "model": name, "opset": opset, "batchnorm": bn,
                              "target": a.target})
                print(case, flush=True)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
