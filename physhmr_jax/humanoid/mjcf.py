"""MJCF generator for the SMPL-topology humanoid (24 bodies, free root, 23x3 hinges).

The body tree, names and frames follow :mod:`physhmr_jax.humanoid.skeleton`. Geometry
follows PHC's SMPL humanoid: capsules along the bones, boxes for the ankles and toes,
spheres for the head and hands, density 1000 kg/m^3. Actuators are PD position servos
(``<position kp kv>``) whose targets are the policy's actions; gains are PHC's Isaac Gym
values scaled by ``gain_scale`` (see :func:`default_config`).

Contacts are explicit ``<pair>`` elements, never the all-pairs default, because MJX's cost
grows with the number of candidate pairs (an early measurement of this project: 20x from
this alone):
  * ``contacts="feet"`` (default): the four foot boxes against the floor;
  * ``contacts="all"``: every body geom against the floor (falls, kneeling, sitting);
  * ``self_collision=True`` adds pairs between geoms of bodies that are not adjacent.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

import ml_collections
import mujoco
import numpy as np
from ml_collections import config_dict

from physhmr_jax.config_io import ConfigError
from physhmr_jax.humanoid.skeleton import (
    BODY_NAMES,
    FOOT_BODIES,
    MIRROR,
    NUM_BODIES,
    PARENTS,
    Skeleton,
    children,
    mean_skeleton,
)

AXIS_NAMES = ("x", "y", "z")

# Left/centre joint ranges in degrees, (lo, hi) per hinge x, y, z. Right bodies mirror
# them: reflecting y -> -y negates rotations about x and z and keeps those about y.
_RANGE_DEG = {
    "Hip": ((-60, 120), (-160, 60), (-80, 80)),
    "Knee": ((-20, 20), (-5, 165), (-40, 40)),
    "Ankle": ((-50, 50), (-70, 70), (-50, 50)),
    "Toe": ((-40, 40), (-70, 50), (-40, 40)),
    "Torso": ((-60, 60), (-70, 70), (-60, 60)),
    "Spine": ((-60, 60), (-70, 70), (-60, 60)),
    "Chest": ((-60, 60), (-70, 70), (-60, 60)),
    "Neck": ((-60, 60), (-70, 70), (-80, 80)),
    "Head": ((-60, 60), (-70, 70), (-80, 80)),
    "Thorax": ((-40, 60), (-45, 45), (-60, 60)),
    "Shoulder": ((-170, 180), (-130, 130), (-160, 120)),
    "Elbow": ((-40, 40), (-120, 120), (-165, 15)),
    "Wrist": ((-90, 90), (-120, 120), (-90, 90)),
    "Hand": ((-60, 60), (-60, 60), (-60, 60)),
}

# PHC's Isaac Gym PD gains (kp [N m/rad], kd [N m s/rad]) per joint type.
_GAINS = {
    "Hip": (800, 80), "Knee": (800, 80), "Ankle": (800, 80), "Toe": (500, 50),
    "Torso": (1000, 100), "Spine": (1000, 100), "Chest": (1000, 100),
    "Neck": (500, 50), "Head": (500, 50),
    "Thorax": (500, 50), "Shoulder": (500, 50), "Elbow": (500, 50), "Wrist": (300, 30), "Hand": (300, 30),
}  # fmt: skip

# Geom radii of the mean body (metres); scaled with the skeleton's size.
_RADIUS_M = {
    "Pelvis": 0.095, "Hip": 0.075, "Knee": 0.055, "Torso": 0.095, "Spine": 0.1, "Chest": 0.11,
    "Neck": 0.05, "Head": 0.1, "Thorax": 0.055, "Shoulder": 0.05, "Elbow": 0.045, "Wrist": 0.04,
    "Hand": 0.045,
}  # fmt: skip
FOOT_HALF_WIDTH_M = 0.045
TOE_HALF_HEIGHT_M = 0.02
HEEL_BACK_M = 0.05
TOE_LENGTH_M = 0.05


def joint_type(body: str) -> str:
    return body.split("_", 1)[-1]


def joint_ranges_rad() -> np.ndarray:
    """[69, 2] hinge limits in radians, in dof order."""
    out = np.zeros((NUM_BODIES - 1, 3, 2))
    for b, name in enumerate(BODY_NAMES[1:], start=1):
        ranges = np.array(_RANGE_DEG[joint_type(name)], dtype=np.float64)
        if name.startswith("R_"):
            ranges[0] = -ranges[0, ::-1]
            ranges[2] = -ranges[2, ::-1]
        out[b - 1] = np.deg2rad(ranges)
    return out.reshape(-1, 2)


def pd_gains() -> tuple[np.ndarray, np.ndarray]:
    """(kp [69], kd [69]) in dof order, before ``gain_scale``."""
    kp = np.repeat([_GAINS[joint_type(n)][0] for n in BODY_NAMES[1:]], 3).astype(np.float64)
    kd = np.repeat([_GAINS[joint_type(n)][1] for n in BODY_NAMES[1:]], 3).astype(np.float64)
    return kp, kd


def default_config(**overrides) -> ml_collections.ConfigDict:
    """How to build the humanoid: a locked ConfigDict, with ``overrides`` applied.

    Sequences are lists, so the config saved as JSON and read back is equal to it. An
    override of a key that does not exist raises ``KeyError`` naming the key; one of the
    wrong type raises ``TypeError`` (ConfigDict's type safety; ints are accepted for floats
    and tuples for lists).

    Example: ``default_config(contacts="all", timestep_s=1 / 120)``.
    """
    config = ml_collections.ConfigDict(
        {
            # Physics step (s); control runs at 30 Hz with ``round(1/30/timestep_s)`` substeps
            # (3 at the default 1/90 s; configs saved before 2026-12-02 carry 1/180 s and 6).
            "timestep_s": 1.0 / 90.0,
            # "feet" (foot boxes vs floor) or "all" (every geom vs floor).
            "contacts": "feet",
            # Add pairs between non-adjacent bodies' geoms.
            "self_collision": False,
            # Multiplies PHC's kp and kd.
            "gain_scale": 1.0,
            # Rotor inertia added to every hinge (kg m^2); stabilises stiff PD.
            "armature": 0.02,
            # Body density (kg/m^3).
            "density": 1000.0,
            # Newton solver budget (speed vs accuracy lever). Two iterations let the 16 foot
            # contacts inject energy (a standing pose hops off the floor within 0.2 s at
            # 1/120 s); four are stable (``tests/test_humanoid.py``).
            "solver_iterations": 4,
            "ls_iterations": 6,
            # "implicitfast" (treats the PD damping implicitly: stable with stiff kd) or "Euler".
            "integrator": "implicitfast",
            # Sliding friction of the foot/floor contact.
            "friction": 1.0,
            # Make the hinge ranges hard constraints. Off by default: PD targets are clipped
            # to the same ranges (``ctrlrange``), and MJX, unlike MuJoCo C, keeps a
            # constraint row for every limited joint whether active or not (69 rows, more
            # than the foot contacts).
            "joint_limit_constraints": False,
            # MuJoCo ``<option>`` settings (speed levers; see docs/benchmarks.md):
            # solver "Newton" | "CG", jacobian "auto" | "dense" | "sparse",
            # cone "pyramidal" | "elliptic".
            "solver": "Newton",
            "jacobian": "auto",
            "cone": "pyramidal",
            # Also collide the toe boxes with the floor (4 more contact points per foot).
            "toe_contacts": True,
            # Softness of the foot/floor contact: MuJoCo's ``solref`` and ``solimp`` [dmin, dmax,
            # width_m] of the contact pairs. ``contact_solref`` is [timeconst_s, dampratio] or,
            # negative, [-stiffness, -damping] (MuJoCo's direct form, per unit of the
            # constraint's effective mass); None means derived, [2 * timestep_s, 1], the stiffest
            # time constant MuJoCo allows (it clamps smaller ones to 2 * timestep_s).
            # The defaults, [-10000, -330] (1.65 x critical damping) and a 5 mm impedance width,
            # are stiffer than 2 * timestep_s allows at 1/90 s, so 3 substeps keep the contact
            # quality of 6 at 1/180 s (docs/humanoid.md): holding the first frame of CMU 02_01 /
            # 16_17 for 1 s in MJX the soles sink 6.3 / 5.0 mm (1/180 s, derived: 4.4 / 2.4 mm;
            # 1/90 s, derived: 20.9 / 35.9 mm in MuJoCo C), and standing 5 s neither hops nor
            # sinks; with a 1 mm width 16_17 sank 10.0 mm in MJX (experiments/contact_study.py,
            # docs/benchmarks.md).
            "contact_solref": config_dict.FieldReference([-10000.0, -330.0], field_type=list),
            "contact_solimp": [0.9, 0.95, 0.005],
            # MJX's implementation (``mjx.put_model(impl=)``): "jax" runs on every JAX backend;
            # "warp" (MuJoCo Warp) on NVIDIA GPUs only, with `mujoco-warp` and `warp-lang`
            # installed (docs/benchmarks.md). Never needed on CPU or in CI.
            "impl": "jax",
        }
    )
    unknown = sorted(set(overrides) - set(config.keys()))
    if unknown:
        raise KeyError(f"unknown humanoid config key(s) {unknown}; known keys: {sorted(config.keys())}")
    config.update(overrides)
    config.lock()
    return config


def contact_solref(config: ml_collections.ConfigDict | None = None) -> tuple[float, float]:
    """The contact pairs' ``solref``: ``config.contact_solref``, or (2 * timestep_s, 1) when None."""
    config = default_config() if config is None else config
    if config.contact_solref is None:
        return (2.0 * config.timestep_s, 1.0)
    if len(config.contact_solref) != 2:
        raise ConfigError(
            f"contact_solref must be [timeconst_s, dampratio] or [-stiffness, -damping], got {config.contact_solref}"
        )
    return tuple(float(x) for x in config.contact_solref)


def _fmt(v) -> str:
    return " ".join(f"{x:.9g}" for x in np.atleast_1d(v))


def size_scale(skeleton: Skeleton) -> float:
    """Stature of ``skeleton`` relative to the mean body (scales geom sizes)."""
    mean = mean_skeleton().rest_positions()
    ours = skeleton.rest_positions()
    return float(np.ptp(ours[:, 2]) / np.ptp(mean[:, 2]))


def _add_geoms(body_el: ET.Element, b: int, skeleton: Skeleton, scale: float, sole_z: float) -> list[str]:
    """Geoms of body ``b`` in its own frame; returns their names."""
    name = BODY_NAMES[b]
    kind = joint_type(name) if b else "Pelvis"
    off = skeleton.offsets_m
    names: list[str] = []

    def geom(suffix: str = "", **attrs):
        gname = f"{name}{suffix}"
        ET.SubElement(body_el, "geom", name=gname, **attrs)
        names.append(gname)

    if kind == "Pelvis":
        left, right = off[children(0)[0]], off[children(0)[1]]
        geom(
            type="capsule",
            fromto=_fmt(np.concatenate([left * 0.7, right * 0.7])),
            size=_fmt(_RADIUS_M["Pelvis"] * scale),
        )
    elif kind == "Ankle":
        toe = off[children(b)[0]]
        back = -HEEL_BACK_M * scale
        half_z = 0.5 * (0.0 - sole_z) * 0.85
        centre = np.array([0.5 * (toe[0] + back), 0.5 * toe[1], sole_z + half_z])
        half = np.array([0.5 * (toe[0] - back), FOOT_HALF_WIDTH_M * scale, half_z])
        geom(type="box", pos=_fmt(centre), size=_fmt(half))
    elif kind == "Toe":
        half_z = TOE_HALF_HEIGHT_M * scale
        half_x = 0.5 * TOE_LENGTH_M * scale
        # Toe box bottom on the same sole plane as the ankle box in the rest pose.
        centre = np.array([half_x, 0.0, sole_z - off[b][2] + half_z])
        geom(type="box", pos=_fmt(centre), size=_fmt([half_x, FOOT_HALF_WIDTH_M * scale, half_z]))
    elif kind == "Head":
        geom(type="sphere", pos=_fmt([0.01 * scale, 0.0, 0.09 * scale]), size=_fmt(_RADIUS_M["Head"] * scale))
    elif kind == "Hand":
        d = off[b] / (np.linalg.norm(off[b]) + 1e-9)
        geom(type="sphere", pos=_fmt(d * 0.04 * scale), size=_fmt(_RADIUS_M["Hand"] * scale))
    else:
        # A capsule from this joint towards its child joint(s), shortened at both ends so
        # neighbouring capsules do not overlap at rest.
        kids = children(b)
        radius = _RADIUS_M[kind] * scale
        if kind == "Chest":
            kid_off = np.mean([off[c] for c in kids], axis=0)
        else:
            kid_off = off[kids[0]]
        length = np.linalg.norm(kid_off)
        start = (
            kid_off * min(0.45, radius / max(length, 1e-6))
            if kind in ("Hip", "Knee", "Shoulder", "Elbow")
            else 0.0 * kid_off
        )
        end = kid_off * max(0.55, 1.0 - radius / max(length, 1e-6))
        geom(type="capsule", fromto=_fmt(np.concatenate([start, end])), size=_fmt(radius))
    return names


def sole_height_below_ankle(skeleton: Skeleton) -> float:
    """z of the foot's sole plane in the ankle frame (negative), rest pose."""
    return float(skeleton.offsets_m[FOOT_BODIES[1]][2] - TOE_HALF_HEIGHT_M * size_scale(skeleton))


def sole_points_local(skeleton: Skeleton) -> np.ndarray:
    """[4, 3] heel (ankle frame) and toe-tip (toe frame) sole points, left then right.

    Rows: L heel, L toe tip, R heel, R toe tip; the bodies are ``FOOT_BODIES``. These are
    the bottom edges of the foot boxes, used to ground motions and measure penetration.
    """
    s = size_scale(skeleton)
    sole_z = sole_height_below_ankle(skeleton)
    out = []
    for toe in (FOOT_BODIES[1], FOOT_BODIES[3]):
        heel = np.array([-HEEL_BACK_M * s, 0.0, sole_z])
        tip = np.array([TOE_LENGTH_M * s, 0.0, sole_z - skeleton.offsets_m[toe][2]])
        out += [heel, tip]
    return np.stack(out)


def build_mjcf(skeleton: Skeleton | None = None, config: ml_collections.ConfigDict | None = None) -> str:
    """The humanoid as an MJCF string (``config``: :func:`default_config` when None)."""
    skeleton = skeleton or mean_skeleton()
    config = default_config() if config is None else config
    scale = size_scale(skeleton)
    off = skeleton.offsets_m
    ranges = joint_ranges_rad()
    kp, kd = pd_gains()
    kp, kd = kp * config.gain_scale, kd * config.gain_scale
    ankle = FOOT_BODIES[0]
    sole_z = sole_height_below_ankle(skeleton)
    rest = skeleton.rest_positions()
    pelvis_height = -(rest[ankle][2] + sole_z) + 0.002

    root = ET.Element("mujoco", model=f"physhmr_smpl_humanoid_{skeleton.name}")
    ET.SubElement(root, "compiler", angle="radian", inertiafromgeom="true")
    option = ET.SubElement(
        root,
        "option",
        timestep=f"{config.timestep_s:.8g}",
        iterations=str(config.solver_iterations),
        ls_iterations=str(config.ls_iterations),
        solver=config.solver,
        integrator=config.integrator,
        cone=config.cone,
        jacobian=config.jacobian,
    )
    ET.SubElement(option, "flag", eulerdamp="disable")
    ET.SubElement(root, "size", njmax="256", nconmax="64")
    visual = ET.SubElement(root, "visual")
    ET.SubElement(visual, "global", offwidth="640", offheight="480")
    ET.SubElement(visual, "headlight", ambient="0.4 0.4 0.4", diffuse="0.6 0.6 0.6")
    default = ET.SubElement(root, "default")
    ET.SubElement(
        default, "joint", type="hinge", armature=f"{config.armature:g}", damping="0",
        limited="true" if config.joint_limit_constraints else "false",
    )  # fmt: skip
    ET.SubElement(
        default, "geom", contype="0", conaffinity="0", density=f"{config.density:g}",
        friction=f"{config.friction:g} 0.005 0.0001", rgba="0.85 0.62 0.45 1", condim="3",
    )  # fmt: skip
    asset = ET.SubElement(root, "asset")
    ET.SubElement(asset, "texture", name="grid", type="2d", builtin="checker", rgb1="0.3 0.35 0.4",
                  rgb2="0.22 0.26 0.3", width="256", height="256")  # fmt: skip
    ET.SubElement(asset, "material", name="grid", texture="grid", texrepeat="8 8", reflectance="0.1")

    world = ET.SubElement(root, "worldbody")
    ET.SubElement(world, "geom", name="floor", type="plane", size="0 0 0.05", material="grid",
                  contype="1", conaffinity="1")  # fmt: skip
    ET.SubElement(world, "light", pos="0 0 4", dir="0 0 -1", directional="true")
    ET.SubElement(world, "camera", name="side", mode="trackcom", pos="0 -3.5 1.0", xyaxes="1 0 0 0 0.05 1")

    body_els: dict[int, ET.Element] = {}
    geom_names: dict[int, list[str]] = {}
    for b, name in enumerate(BODY_NAMES):
        parent_el = world if b == 0 else body_els[PARENTS[b]]
        pos = np.array([0.0, 0.0, pelvis_height]) if b == 0 else off[b]
        el = ET.SubElement(parent_el, "body", name=name, pos=_fmt(pos))
        body_els[b] = el
        if b == 0:
            ET.SubElement(el, "freejoint", name="root")
        else:
            for a, axis in enumerate(AXIS_NAMES):
                lo, hi = ranges[3 * (b - 1) + a]
                ET.SubElement(el, "joint", name=f"{name}_{axis}", axis=_fmt(np.eye(3)[a]), range=_fmt([lo, hi]))
        geom_names[b] = _add_geoms(el, b, skeleton, scale, sole_z)

    contact = ET.SubElement(root, "contact")
    if config.contacts == "feet":
        floor_bodies = FOOT_BODIES if config.toe_contacts else FOOT_BODIES[::2]
    else:
        floor_bodies = range(NUM_BODIES)
    for b in floor_bodies:
        for g in geom_names[b]:
            ET.SubElement(
                contact, "pair", geom1="floor", geom2=g,
                solref=_fmt(contact_solref(config)), solimp=_fmt(config.contact_solimp),
            )  # fmt: skip
    if config.self_collision:
        for b1 in range(NUM_BODIES):
            for b2 in range(b1 + 1, NUM_BODIES):
                adjacent = PARENTS[b2] == b1 or PARENTS[b1] == b2 or PARENTS[b1] == PARENTS[b2]
                if adjacent or MIRROR[b1] == b2 and b1 in (9, 10, 11):
                    continue
                for g1 in geom_names[b1]:
                    for g2 in geom_names[b2]:
                        ET.SubElement(contact, "pair", geom1=g1, geom2=g2)

    actuator = ET.SubElement(root, "actuator")
    for i, (name, (lo, hi)) in enumerate(zip(dof_names(), ranges, strict=True)):
        ET.SubElement(
            actuator, "position", name=name, joint=name, kp=f"{kp[i]:g}", kv=f"{kd[i]:g}",
            ctrllimited="true", ctrlrange=_fmt([lo, hi]),
        )  # fmt: skip
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def dof_names() -> list[str]:
    return [f"{n}_{a}" for n in BODY_NAMES[1:] for a in AXIS_NAMES]


def build_model(skeleton: Skeleton | None = None, config: ml_collections.ConfigDict | None = None) -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(build_mjcf(skeleton, config))


def control_substeps(config: ml_collections.ConfigDict | None = None, control_hz: float = 30.0) -> int:
    """Physics steps per control step (3 at the default 1/90 s and 30 Hz)."""
    config = default_config() if config is None else config
    return max(1, int(round(1.0 / control_hz / config.timestep_s)))


def humanoid_info(model: mujoco.MjModel) -> dict:
    """Summary for ``physhmr humanoid info``."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    geom_top = data.geom_xpos[:, 2] + model.geom_rbound
    bodies = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, i) for i in range(1, model.nbody)]
    masses = {n: round(float(model.body_mass[i + 1]), 3) for i, n in enumerate(bodies)}
    head = model.geom("Head")
    height = float(data.geom_xpos[head.id][2] + model.geom_size[head.id][0])
    return {
        "bodies": bodies,
        "nbody": len(bodies),
        "nq": int(model.nq),
        "nv": int(model.nv),
        "nu": int(model.nu),
        "masses_kg": masses,
        "total_mass_kg": round(float(model.body_mass.sum()), 3),
        "height_m": round(height, 3),
        "bounding_top_m": round(float(geom_top.max()), 3),
        "timestep_s": float(model.opt.timestep),
        "contact_pairs": int(model.npair),
    }


__all__ = [
    "build_mjcf",
    "build_model",
    "contact_solref",
    "control_substeps",
    "default_config",
    "dof_names",
    "humanoid_info",
    "joint_ranges_rad",
    "pd_gains",
    "size_scale",
    "sole_points_local",
]
