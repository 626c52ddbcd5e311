"""Whether each clip's centre of mass obeys its contacts (``physhmr_jax/motion/dynamics.py``).

Prints per clip: flight frames, the worst horizontal centre-of-mass acceleration and the
worst error of the vertical one against -g in flight (both 0 for a physical motion), the
worst moment about the centre of mass per kg in flight (0 physical), and the worst pull
the floor would need in contact frames (<= 0 physical). A clip that fails these cannot be
tracked exactly by any policy: its error grows every flight.

Usage (``docs/expert.md``, section on the references' physics; seconds per clip):

    .venv/bin/python experiments/reference_physics.py procedural --per-type 1
    .venv/bin/python experiments/reference_physics.py runs/motions/cmu_no_cartwheels --contact-m 0.03
"""

from __future__ import annotations

import argparse

from physhmr_jax.expert.build import load_motions
from physhmr_jax.humanoid import mjcf
from physhmr_jax.motion.dynamics import CONTACT_M, reference_dynamics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("motions", help="a folder of clip .npz files, clip files, or 'procedural'")
    parser.add_argument("--per-type", type=int, default=2, help="procedural clips per type")
    parser.add_argument("--contact-m", type=float, default=CONTACT_M, help="sole height that counts as a foot down")
    args = parser.parse_args()
    clips = load_motions(args.motions, procedural_per_type=args.per_type)
    model = mjcf.build_model(clips[0].skeleton)
    print(f"{'clip':>12} {'flight':>6} {'horiz acc':>9} {'vert err':>8} {'moment/kg':>9} {'pull':>6}  (m/s^2, N m/kg)")
    for clip in clips:
        same_body = clip.skeleton is clips[0].skeleton
        s = reference_dynamics(clip, model if same_body else None, contact_m=args.contact_m).summary()
        print(
            f"{clip.name:>12} {s['flight_frames']:6d} {s['flight_horizontal_acc']:9.2f} "
            f"{s['flight_vertical_acc_error']:8.2f} {s['flight_torque_per_kg']:9.2f} {s['contact_pull']:6.2f}"
        )


if __name__ == "__main__":
    main()
