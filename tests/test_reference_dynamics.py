"""The references' physics (motion/dynamics.py): hand-made flights and stances, and the
procedural run and jump, whose centre of mass is ballistic in flight and never pulled down
by the floor."""

import dataclasses

import numpy as np
import pytest

from physhmr_jax.humanoid.simulation import standing_qpos
from physhmr_jax.humanoid.skeleton import mean_skeleton
from physhmr_jax.motion.clip import Clip
from physhmr_jax.motion.dynamics import GRAVITY_MPS2, reference_dynamics
from physhmr_jax.motion.procedural import generate_clip

FPS = 30.0


def _rigid_clip(root_pos: np.ndarray) -> Clip:
    """The standing pose carried rigidly along ``root_pos`` [T, 3] (its z relative to standing)."""
    skeleton = mean_skeleton()
    stand = np.asarray(standing_qpos(skeleton), np.float64)
    num_frames = root_pos.shape[0]
    return Clip(
        name="rigid",
        fps=FPS,
        root_pos_m=stand[:3] + root_pos,
        root_quat=np.tile(stand[3:7], (num_frames, 1)),
        dof=np.tile(stand[7:], (num_frames, 1)),
        skeleton=skeleton,
        source="test",
    ).validate()


def test_a_thrown_body_is_physical_and_a_gliding_one_is_not():
    t = np.arange(31) / FPS
    thrown = np.stack([1.5 * t, 0.2 * t, 0.3 + 4.9 * t - 0.5 * GRAVITY_MPS2 * t**2], -1)  # airborne throughout
    dyn = reference_dynamics(_rigid_clip(thrown))
    s = dyn.summary()
    assert s["flight_frames"] == 31 - 4  # the ends have no central difference of the momentum
    assert s["flight_horizontal_acc"] < 1e-3 and s["flight_vertical_acc_error"] < 1e-3
    assert s["flight_torque_per_kg"] < 1e-6 and s["contact_pull"] == 0.0
    np.testing.assert_allclose(dyn.com_acc_mps2[1:-1], np.tile([0.0, 0.0, -GRAVITY_MPS2], (29, 1)), atol=1e-3)
    # The same height at constant speed: a body that glides through the air, braking 2 m/s^2.
    glide = np.stack([1.5 * t - t**2, 0 * t, 0.3 + 0 * t], -1)
    g = reference_dynamics(_rigid_clip(glide)).summary()
    assert g["flight_vertical_acc_error"] == pytest.approx(GRAVITY_MPS2, abs=1e-3)
    assert g["flight_horizontal_acc"] == pytest.approx(2.0, abs=1e-3)


def test_a_standing_body_in_contact_and_one_pulled_down():
    t = np.arange(31) / FPS
    stand = reference_dynamics(_rigid_clip(np.zeros((31, 3)))).summary()
    assert stand["flight_frames"] == 0 and stand["contact_pull"] == pytest.approx(-GRAVITY_MPS2, abs=1e-3)
    # Feet through the floor, sinking at 1.5 g: the floor would have to pull.
    sink = np.stack([0 * t, 0 * t, -0.75 * GRAVITY_MPS2 * t**2], -1)
    pulled = reference_dynamics(_rigid_clip(sink)).summary()
    assert pulled["contact_pull"] == pytest.approx(0.5 * GRAVITY_MPS2, abs=1e-3)


@pytest.mark.parametrize("motion_type", ["run", "jump"])
@pytest.mark.parametrize("seed", [0, 1])
def test_procedural_flights_are_ballistic(motion_type, seed):
    clip = generate_clip(motion_type, seed=seed)
    s = reference_dynamics(clip).summary()
    assert s["flight_frames"] >= 3
    # Before the centre of mass was put on the path, the run braked at 6-8 m/s^2 in flight
    # and the jump's push ended at rest, asking the floor to pull at 11.7 m/s^2 (seed 0).
    assert s["flight_horizontal_acc"] < 0.5, s
    assert s["flight_vertical_acc_error"] < 0.1, s
    assert s["contact_pull"] < 0.0, s


def test_clips_on_another_body_use_their_own_masses():
    clip = generate_clip("jump", seed=0)
    big = dataclasses.replace(clip.skeleton, offsets_m=clip.skeleton.offsets_m * 1.1)
    heavier = reference_dynamics(dataclasses.replace(clip, skeleton=big))
    assert heavier.mass_kg > reference_dynamics(clip).mass_kg * 1.2
