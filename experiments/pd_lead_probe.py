"""How long zero residual actions hold each clip, for several velocity leads of the PD target.

The expert's residual actions move the PD target about an offset; with a zero action the
humanoid is a PD servo chasing that offset. The servo lags its target, so an offset ahead
along the reference velocity (``env.target_lead_s``) tracks longer. This probe plays every
clip from its first frame with zero actions for each lead and prints the frame at which
PHC's failure rule (mean body distance > 0.5 m) first fires, the root error on the way and
the body farthest from its reference at frame ``--far-frame`` (the swing foot of a fast gait):

    .venv/bin/python experiments/pd_lead_probe.py runs/motions/cmu_walks --leads 0 0.1 0.2 0.3
    .venv/bin/python experiments/pd_lead_probe.py procedural --leads 0 0.1 --far-frame 7

One compiled program serves every lead (the lead is an argument).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.eval.metrics import SUCCESS_THRESHOLD_M
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert
from physhmr_jax.humanoid.skeleton import BODY_NAMES


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("motions", help="a clip .npz, a folder of them, or 'procedural'")
    parser.add_argument("--leads", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3], help="target_lead_s values")
    parser.add_argument("--steps", type=int, default=0, help="control steps per clip (0: the longest clip)")
    parser.add_argument("--far-frame", type=int, default=10, help="frame whose farthest body is printed")
    args = parser.parse_args(argv)
    if args.far_frame < 1:
        parser.error(f"--far-frame must be a frame >= 1, not {args.far_frame}")

    expert = build_expert(expert_config.default_config("cpu"), motions=args.motions)
    env, lib = expert.env, expert.motion_lib
    steps = args.steps or int(np.ceil(float(np.max(np.asarray(lib.clip_duration_s))) / env.dt))

    @jax.jit
    def play(lead):
        def one(clip_id):
            start = env.reset_to(jax.random.PRNGKey(0), lib, clip_id, 0.0)

            def body(state, _):
                ref = lib.state_at(state.clip_id, state.time_s + env.dt)
                # The action whose target is the led reference, in this env's residual map.
                action = env.targets_to_action(ref.dof + lead * ref.dof_vel, env.residual_offset(ref))
                state = env.step(state, action, lib)
                body_error = jnp.linalg.norm(state.data.xpos[1:] - ref.body_pos, axis=-1)  # [24]
                return state, (state.metrics["body_distance_mean_m"], body_error)

            return jax.lax.scan(body, start, None, length=steps)[1]

        return jax.vmap(one)(jnp.arange(lib.num_clips))

    frames = np.asarray(lib.clip_num_frames)
    print(f"{lib.num_clips} clip(s), {steps} steps each; failure: mean body distance > {SUCCESS_THRESHOLD_M} m")
    for lead in args.leads:
        t0 = time.perf_counter()
        distance, body_error = (np.asarray(x) for x in play(jnp.float32(lead)))
        root_error = body_error[..., 0]  # [clips, steps]: the pelvis
        f = min(args.far_frame, steps) - 1  # frame F is reached after F steps
        cells = []
        for i, name in enumerate(expert.clips):
            n = min(int(frames[i]) - 1, steps)
            failed = distance[i, :n] > SUCCESS_THRESHOLD_M
            held = int(np.argmax(failed)) if failed.any() else n
            far = int(np.argmax(body_error[i, f]))
            cells.append(
                f"{name.name}: held {held}/{n}, root error at 10/20 {root_error[i, 9]:.2f}/{root_error[i, 19]:.2f} m, "
                f"farthest at {f + 1} {BODY_NAMES[far]} {body_error[i, f, far]:.2f} m"
            )
        print(f"lead {lead:.2f} s: " + " | ".join(cells) + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
