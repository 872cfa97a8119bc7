"""How far a FAVOR attention path is from its float64 reference: one number per tensor.

Shape legend: B batch, H heads, L length, D head dim.

The bf16-GEMM path (`gemm_dtype=torch.bfloat16` in the linear-attention kernels,
`SelfAttention(bf16_gemm=True)`) is accepted where its relative error stays within
`BF16_GEMM_BOUND` of the float64 CPU reference, for the output and for the gradients of q, k
and v. The bound is six times the error that bf16 activations cost anyway (the safe fp32 path,
its output rounded to bf16, measured 1.6e-3); the bf16-GEMM path measured at most 7.2e-3 on the
CPU at L = 1024 and 8192 (docs/gpu.md, "bf16 GEMMs", command and table).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Relative Frobenius error ‖x − x_ref‖ / ‖x_ref‖ allowed for output and input gradients.
BF16_GEMM_BOUND = 1e-2


def relative_error(x: torch.Tensor, reference: torch.Tensor) -> float:
    """‖x − ref‖_F / ‖ref‖_F, computed in float64 on the reference's device."""
    x64 = x.detach().to(device=reference.device, dtype=torch.float64)
    ref64 = reference.detach().to(torch.float64)
    return float((x64 - ref64).norm() / ref64.norm().clamp_min(torch.finfo(torch.float64).tiny))


@dataclass(frozen=True)
class PathError:
    """Relative errors of one attention call against float64: output and dL/dq, dL/dk, dL/dv,
    and whether every value was finite."""

    out: float
    dq: float
    dk: float
    dv: float
    finite: bool

    @property
    def worst(self) -> float:
        return max(self.out, self.dq, self.dk, self.dv)


def attend_with_grads(attend, q_BHLD, k_BHLD, v_BHLD, grad_BHLD):
    """`attend(q, k, v)` and the gradients of ⟨out, grad⟩ w.r.t. q, k, v (fresh leaves)."""
    leaves = [t.detach().clone().requires_grad_() for t in (q_BHLD, k_BHLD, v_BHLD)]
    out_BHLD = attend(*leaves)
    out_BHLD.backward(grad_BHLD.to(out_BHLD.dtype))
    return out_BHLD.detach(), [leaf.grad for leaf in leaves]


def path_error(attend, reference_attend, q_BHLD, k_BHLD, v_BHLD, grad_BHLD) -> PathError:
    """Errors of `attend` on the given inputs against `reference_attend` run in float64 on the
    CPU from the very same (already rounded) inputs."""
    out, grads = attend_with_grads(attend, q_BHLD, k_BHLD, v_BHLD, grad_BHLD)
    cpu64 = [t.detach().to("cpu", torch.float64) for t in (q_BHLD, k_BHLD, v_BHLD, grad_BHLD)]
    ref_out, ref_grads = attend_with_grads(reference_attend, *cpu64)
    tensors = [out, *grads]
    return PathError(
        out=relative_error(out, ref_out),
        dq=relative_error(grads[0], ref_grads[0]),
        dk=relative_error(grads[1], ref_grads[1]),
        dv=relative_error(grads[2], ref_grads[2]),
        finite=all(bool(torch.isfinite(t).all()) for t in tensors),
    )
