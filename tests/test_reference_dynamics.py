"""The references' physics (motion/dynamics.py): hand-made flights and stances, and the
procedural run and jump, whose centre of mass is ballistic in flight and never pulled down
by the floor."""

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.kinematics import world_sole_points
from physhmr_jax.humanoid.simulation import standing_qpos
from physhmr_jax.humanoid.skeleton import mean_skeleton
from physhmr_jax.motion.clip import Clip
from physhmr_jax.motion.dynamics import GRAVITY_MPS2, reference_dynamics, zero_moment_point
from physhmr_jax.motion.procedural import generate_clip
from physhmr_jax.motion.procedural.body import LegGeometry
from physhmr_jax.motion.procedural.params import sample_params

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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_procedural_run_keeps_its_angular_momentum_in_flight(seed):
    """A flight cannot change the angular momentum about the centre of mass. With the swing
    foot's smoothstep the run's flights changed it by 7-15 kg m^2/s (the trailing leg swinging
    forward, nothing cancelling it) and needed 2.2-3.7 N m/kg; the CMU run 09_06 changes it by
    1.1-2.3 and needs 0.74."""
    d = reference_dynamics(generate_clip("run", seed=seed))
    changes = [np.linalg.norm(d.angular_momentum[b] - d.angular_momentum[a]) for a, b in d.flights()]
    assert len(changes) >= 8
    assert max(changes) < 4.0, changes
    assert d.summary()["flight_torque_per_kg"] < 1.2


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_procedural_jump_pushes_and_lands_over_its_feet(seed):
    """The toes do not bend, so a raised heel leaves the body on the toe tips' edge. With the
    heels rising through the push the floor's force had to act 0.15-0.21 m outside the feet in
    6-14 contact frames of every seed (the zero-moment point's share 0.066-0.156), and seeds 2
    and 4 asked the floor to pull (1.9, 4.6 m/s^2); flat feet: none."""
    d = reference_dynamics(generate_clip("jump", seed=seed))
    assert np.nanmax(d.zmp_outside_m) < 0.02, np.flatnonzero(d.zmp_outside_m >= 0.02)
    assert d.summary()["contact_pull"] < 0.0


def test_flights_are_the_runs_of_airborne_frames():
    d = reference_dynamics(generate_clip("run", seed=0))
    air = np.zeros(12, bool)
    air[[0, 2, 3, 6, 10, 11]] = True  # frames 0 and 11 have no central difference: left out
    d = dataclasses.replace(d, airborne=air)
    assert d.flights() == [(2, 3), (6, 6), (10, 10)]


def test_clips_on_another_body_use_their_own_masses():
    clip = generate_clip("jump", seed=0)
    big = dataclasses.replace(clip.skeleton, offsets_m=clip.skeleton.offsets_m * 1.1)
    heavier = reference_dynamics(dataclasses.replace(clip, skeleton=big))
    assert heavier.mass_kg > reference_dynamics(clip).mass_kg * 1.2


def test_zero_moment_point_by_hand():
    com, mass = np.array([1.0, 2.0, 0.9]), 60.0
    still = zero_moment_point(com, np.array([0.0, 0.0, mass * GRAVITY_MPS2]), np.zeros(3))
    np.testing.assert_allclose(still, [1.0, 2.0])
    # Pushed forward at 3 m/s^2: the force's line runs from behind the feet through the centre of mass.
    pushed = zero_moment_point(com, mass * np.array([3.0, 0.0, GRAVITY_MPS2]), np.zeros(3))
    np.testing.assert_allclose(pushed, [1.0 - 0.9 * 3.0 / GRAVITY_MPS2, 2.0])
    # Rolling (a moment about x) with no horizontal force: the point moves sideways by moment / weight.
    rolling = zero_moment_point(com, np.array([0.0, 0.0, mass * GRAVITY_MPS2]), np.array([30.0, 0.0, 0.0]))
    np.testing.assert_allclose(rolling, [1.0, 2.0 + 30.0 / (mass * GRAVITY_MPS2)])


@pytest.mark.parametrize("acc", [0.0, 0.3, 3.0])
def test_a_body_accelerated_on_its_feet(acc):
    """The standing pose slid along the floor at ``acc``: the floor's force acts h acc / g behind
    the centre of mass, under the feet at 0.3 m/s^2 (28 mm), far behind them at 3 (0.28 m)."""
    t = np.arange(61) / FPS
    dyn = reference_dynamics(_rigid_clip(np.stack([0.5 * acc * t**2, 0 * t, 0 * t], -1)))
    inner = np.isfinite(dyn.zmp_m[:, 0])
    assert inner.sum() >= 40  # every frame is a contact frame; the ends are left to the smoothing
    behind = dyn.com_m[inner, 0] - dyn.zmp_m[inner, 0]
    np.testing.assert_allclose(behind, dyn.com_m[inner, 2] * acc / GRAVITY_MPS2, atol=1e-3)
    assert dyn.summary()["contact_zmp_outside"] == (1.0 if acc == 3.0 else 0.0)


@pytest.mark.parametrize("motion_type", ["walk", "turn", "sidestep"])
def test_procedural_gaits_never_ask_the_floor_to_pull(motion_type):
    for seed in (0, 1, 2):
        # Before the landing leg lowered the pelvis ahead of touchdown, it dropped 2-3 cm in one
        # frame: the walk asked for a 0.75 m/s^2 pull, the turn 4.07 (seed 0).
        assert reference_dynamics(generate_clip(motion_type, seed=seed)).summary()["contact_pull"] < 0.0, seed


def test_procedural_turn_steps_out_of_the_turn():
    """Around a turn the feet land h v omega / g outside the centre of mass's path, so the
    floor's force, which bends the path, points through the centre of mass."""
    for seed in (0, 1):
        clip = generate_clip("turn", seed=seed)
        params, _ = sample_params("turn", seed, LegGeometry.of(clip.skeleton).size)
        dyn = reference_dynamics(clip)
        soles = world_sole_points(clip.root_pos_m, clip.root_quat, clip.dof, clip.skeleton)
        heading = np.unwrap(np.asarray(rot.heading_angle(jnp.asarray(clip.root_quat))))
        turned = np.flatnonzero(np.arange(clip.num_frames) / FPS > params.turn_start_s + 1.0)[:-2]
        outward = []
        for f in turned:
            down = soles[f, soles[f, :, 2] <= 0.01, :2].mean(axis=0) - dyn.com_m[f, :2]
            left = np.array([-np.sin(heading[f]), np.cos(heading[f])])
            outward.append(-params.sign * (down @ left))  # + out of the turn
        lean = dyn.com_m[turned, 2].mean() * params.speed_mps * params.yaw_rate_rad_s / GRAVITY_MPS2
        # Measured: seed 0 0.081 m (h v omega / g 0.080 m), seed 1 0.049 (0.068); before: 0.016 (seed 0).
        assert 0.6 * lean < np.mean(outward) < 1.2 * lean, (seed, np.mean(outward), lean)
