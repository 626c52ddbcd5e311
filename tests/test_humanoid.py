"""The generated humanoid: structure, FK against MuJoCo, and a PD hold in MJX."""

import json

import imageio.v3 as iio
import jax
import jax.numpy as jnp
import ml_collections
import mujoco
import numpy as np
import pytest

from physhmr_jax import cli
from physhmr_jax.humanoid import mjcf, simulation
from physhmr_jax.humanoid.kinematics import forward_kinematics, world_sole_points
from physhmr_jax.humanoid.skeleton import BODY_NAMES, NUM_DOF, Skeleton, mean_skeleton, standing_dof


def _random_qpos(rng, n):
    ranges = mjcf.joint_ranges_rad()
    quat = rng.normal(size=(n, 4))
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    return np.concatenate(
        [rng.normal(size=(n, 3)), quat, rng.uniform(ranges[:, 0], ranges[:, 1], size=(n, NUM_DOF))], axis=-1
    )


@pytest.mark.parametrize("size", [1.0, 1.12])
def test_fk_matches_mujoco_on_100_random_poses(size):
    skeleton = Skeleton(mean_skeleton().offsets_m * size, name=f"x{size}")
    model = mjcf.build_model(skeleton)
    data = mujoco.MjData(model)
    qpos = _random_qpos(np.random.default_rng(0), 100)
    pos, quat = forward_kinematics(
        jnp.asarray(qpos[:, :3]), jnp.asarray(qpos[:, 3:7]), jnp.asarray(qpos[:, 7:]), jnp.asarray(skeleton.offsets_m)
    )
    xpos, xquat = [], []
    for q in qpos:
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        xpos.append(data.xpos[1:].copy())
        xquat.append(data.xquat[1:].copy())
    pos_err = np.abs(np.asarray(pos) - np.stack(xpos)).max()
    assert pos_err <= 1e-4, pos_err  # acceptance: <= 1e-4 m over 100 poses (measured ~6e-7, float32)
    # Same rotations: |<q_fk, q_mj>| = 1 (q and -q are one rotation).
    np.testing.assert_allclose(np.abs(np.sum(np.asarray(quat) * np.stack(xquat), -1)), 1.0, atol=1e-5)


def test_structure_and_info():
    info = mjcf.humanoid_info(mjcf.build_model())
    assert info["bodies"] == list(BODY_NAMES)
    assert (info["nbody"], info["nq"], info["nv"], info["nu"]) == (24, 76, 75, 69)
    assert 50.0 <= info["total_mass_kg"] <= 90.0, info["total_mass_kg"]
    assert 1.6 <= info["height_m"] <= 1.8, info["height_m"]
    assert info["contact_pairs"] == 4  # two boxes per foot against the floor


def test_contact_options_and_gains():
    feet = mjcf.build_model()
    every = mjcf.build_model(config=mjcf.default_config(contacts="all"))
    selfc = mjcf.build_model(config=mjcf.default_config(contacts="all", self_collision=True))
    assert every.npair == every.ngeom - 1  # every body geom against the floor
    assert selfc.npair > every.npair
    kp = feet.actuator_gainprm[:, 0]
    names = mjcf.dof_names()
    assert (
        kp[names.index("L_Hip_x")] == 800 and kp[names.index("Torso_y")] == 1000 and kp[names.index("R_Wrist_z")] == 300
    )
    # Position servo with damping: bias = -kp * q - kv * qdot.
    assert feet.actuator_biasprm[names.index("L_Knee_y"), 2] == -80
    np.testing.assert_allclose(feet.jnt_range[1:], mjcf.joint_ranges_rad(), atol=1e-6)
    # Right side mirrors the left: x and z ranges negated and swapped, y equal.
    r = mjcf.joint_ranges_rad().reshape(23, 3, 2)
    np.testing.assert_allclose(r[BODY_NAMES.index("R_Hip") - 1, 0], -r[BODY_NAMES.index("L_Hip") - 1, 0, ::-1])
    np.testing.assert_allclose(r[BODY_NAMES.index("R_Hip") - 1, 1], r[BODY_NAMES.index("L_Hip") - 1, 1])


def test_default_config_overrides():
    config = mjcf.default_config(contacts="all", contact_solref=(0.011, 1.0))
    assert config.contacts == "all" and config.contact_solref == [0.011, 1.0]  # a tuple is stored as a list
    assert mjcf.contact_solref(config) == (0.011, 1.0)
    # The default is MuJoCo's direct form [-stiffness, -damping] at 1/90 s (3 substeps);
    # None is derived, (2 * timestep_s, 1): what configs saved before 2026-12-02 hold.
    default = mjcf.default_config()
    assert mjcf.contact_solref(default) == (-10000.0, -330.0) and mjcf.control_substeps(default) == 3
    old = mjcf.default_config(contact_solref=None, timestep_s=1 / 180)
    assert mjcf.contact_solref(old) == pytest.approx((2.0 / 180.0, 1.0)) and mjcf.control_substeps(old) == 6
    assert 'solref="-10000 -330"' in mjcf.build_mjcf(config=default)
    with pytest.raises(KeyError, match=r"unknown humanoid config key\(s\) \['contact'\]"):
        mjcf.default_config(contact="all")
    with pytest.raises(TypeError):
        mjcf.default_config(contact_solref="soft")
    with pytest.raises(AttributeError):
        config.no_such_setting = 1  # locked


def test_impl_switch():
    """MJX's implementation is a humanoid setting: "jax" everywhere; "warp" where MuJoCo Warp is
    installed (NVIDIA GPUs), elsewhere one error saying how to install it; a bad name is refused."""
    from physhmr_jax.config_io import ConfigError

    model = mjcf.build_model(mean_skeleton(), mjcf.default_config())
    assert str(simulation.put_model(model, "jax").impl).lower().endswith("jax")
    with pytest.raises(ConfigError, match="must be one of"):
        simulation.make_humanoid(config=mjcf.default_config(impl="cuda"))
    try:
        import warp  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="pip install mujoco-warp warp-lang"):
            simulation.make_humanoid(config=mjcf.default_config(impl="warp"))
    with pytest.raises(SystemExit):  # argparse refuses it
        cli.main(["bench", "env", "--impl", "cuda"])


@pytest.mark.parametrize("overrides", [{}, {"contact_solref": [0.011, 1.0], "contacts": "all"}])
def test_config_json_round_trip_builds_the_same_model(overrides):
    config = mjcf.default_config(**overrides)
    loaded = json.loads(json.dumps(config.to_dict()))
    restored = ml_collections.ConfigDict(loaded)
    restored.lock()  # ConfigDict equality also compares the lock
    assert restored == config
    assert mjcf.default_config(**loaded) == config
    assert mjcf.build_mjcf(config=restored) == mjcf.build_mjcf(config=config)


def test_standing_pose_rests_on_the_floor():
    qpos = np.asarray(simulation.standing_qpos(mean_skeleton()))
    soles = world_sole_points(qpos[:3], qpos[3:7], qpos[7:], mean_skeleton())
    np.testing.assert_allclose(soles[:, 2].min(), 0.0, atol=1e-5)
    assert np.allclose(qpos[7:], standing_dof(), atol=1e-6)


def test_pd_hold_standing_in_mjx():
    """1 s of PD hold of the standing pose: no NaN, pelvis within 3 cm, no sole below -1 cm, and
    no hop (the pelvis never rises 5 mm above where it started, both feet stay on the floor)."""
    humanoid = simulation.make_humanoid()
    qpos0 = simulation.standing_qpos(humanoid.skeleton)
    model = humanoid.mjx_model
    from mujoco import mjx

    # No forward pass first: mjx.step begins with one (run op by op, it cost 80 s here).
    data = jax.tree.map(lambda x: x[None], mjx.make_data(model).replace(qpos=qpos0))
    steps = int(round(1.0 / humanoid.control_dt_s))
    targets = jnp.broadcast_to(qpos0[7:], (1, steps, NUM_DOF))
    qpos = np.asarray(simulation.rollout_pd_batch(model, data, targets, humanoid.substeps))[0]
    assert np.isfinite(qpos).all()
    assert abs(qpos[-1, 2] - float(qpos0[2])) < 0.03, (qpos[-1, 2], float(qpos0[2]))
    soles = world_sole_points(qpos[:, :3], qpos[:, 3:7], qpos[:, 7:], humanoid.skeleton)
    assert soles[..., 2].min() > -0.01, soles[..., 2].min()
    assert qpos[:, 2].max() - float(qpos0[2]) < 0.005, qpos[:, 2].max() - float(qpos0[2])
    assert soles[..., 2].min(-1).max() < 0.005, soles[..., 2].min(-1).max()  # some sole point always down


@pytest.mark.slow
@pytest.mark.full  # ~70 s: its rollout compiles again (the start state comes from mjx.forward)
def test_demo_writes_video_strip_and_summary(tmp_path):
    """The PD playback demo (``physhmr demo --playback``, ``physhmr_jax.demo.run_demo``) end
    to end at a tiny scale: procedural clip -> MJX playback -> video, strip and summary.
    Feet-only contacts and 1 s (30 control steps). ``make test`` keeps the PD hold above."""
    from physhmr_jax.demo import run_demo

    summary = run_demo(motions=None, out_dir=tmp_path, clip_name="squat_0", seconds=1.0, contacts="feet")
    assert not summary["nan"]
    assert summary["control_steps"] == 30
    # Open-loop PD playback from the reference state stays on a slow squat for 1 s.
    assert summary["mean_body_error_m_first_second"] < 0.15, summary
    frames = iio.imread(tmp_path / "playback.mp4")
    assert frames.shape[0] == 31 and frames.shape[-1] == 3
    assert iio.imread(tmp_path / "strip.png").shape[0] == 5 * frames.shape[1]
    assert json.loads((tmp_path / "summary.json").read_text())["clip"] == "squat_0"


def test_cli_humanoid_info_json(capsys):
    assert cli.main(["humanoid", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["nu"] == 69 and info["nbody"] == 24 and "total_mass_kg" in info
