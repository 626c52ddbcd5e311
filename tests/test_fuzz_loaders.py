"""Property-based fuzzing of every loader that reads a user's file (issue "Reliability", item 1).

Each loader gets a valid seed file written here, then hypothesis-made variants of it:
truncation at a random byte, byte flips / insertions / deletions, structural edits (npz:
drop a key, NaN/inf, huge values, other shape, ndim or dtype, text, an ``.npy`` in place of
the ``.npz``; JSON: delete, replace or duplicate nodes with garbage, deep nesting; BVH:
delete, duplicate or swap lines, garbage numbers, other channel counts) and random bytes,
plus pinned cases for the crashes this test found. Every case must end in loaded data or in
the loader's one-line error (a ``ValueError`` subclass) naming the file; another exception,
a message over several lines or without the file's name, or a case running over ``HANG_S``
fails the test. Seeds are fixed (``derandomize``), 1000 generated cases per loader; each
test prints ``fuzz <loader>: N cases, E clean errors, V valid loads, C crashes``.
"""

from __future__ import annotations

import collections
import copy
import functools
import io
import json
import random
import signal
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from physhmr_jax.agents import ppo, run_dir
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.export import load_policy, policy_sizes, save_policy
from physhmr_jax.humanoid.skeleton import NUM_DOF, mean_skeleton
from physhmr_jax.motion.amass import load_amass, write_amass_npz
from physhmr_jax.motion.bvh import load_bvh, parse_bvh
from physhmr_jax.motion.clip import Clip, MotionFileError, load_clip
from physhmr_jax.vision.shards import COCO17_NAMES, VideoFileError, VideoSample, load_sample, save_sample
from physhmr_jax.vision.video_import import import_video

CASES = 1000
HANG_S = 5.0  # a case (a file of a few kilobytes) running this long is a hang
FUZZ = settings(derandomize=True, deadline=None, max_examples=CASES, database=None,
                suppress_health_check=list(HealthCheck))  # fmt: skip
Loader = tuple["Tally", Callable[[Path], object], type[Exception]]


class Tally:
    """One loader's outcomes: clean errors, valid loads and crashes (with their messages)."""

    def __init__(self, name: str):
        self.name, self.errors, self.valid, self.crashes, self.slowest_s = name, 0, 0, [], 0.0

    def run(self, load: Callable[[Path], object], path: Path, error: type[Exception]) -> None:
        def hang(signum, frame):
            raise TimeoutError(f"no result after {HANG_S} s")

        previous = signal.signal(signal.SIGALRM, hang)
        signal.setitimer(signal.ITIMER_REAL, HANG_S)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # import reports, numpy overflow: not errors
                load(path)
        except error as err:
            message = str(err)
            if "\n" in message or path.name not in message:
                self.crashes.append(f"bad message: {message!r}")
            else:
                self.errors += 1
        except Exception as err:  # anything else is what this test looks for
            self.crashes.append(f"{type(err).__name__}: {err}")
        else:
            self.valid += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.slowest_s = max(self.slowest_s, time.perf_counter() - start)

    def report(self) -> str:
        """Print the summary line; return what went wrong ("" when nothing did)."""
        cases = self.errors + self.valid + len(self.crashes)
        print(f"\nfuzz {self.name}: {cases} cases, {self.errors} clean errors, {self.valid} valid loads, "
              f"{len(self.crashes)} crashes (slowest case {self.slowest_s:.3f} s)")  # fmt: skip
        kinds = collections.defaultdict(list)
        for crash in self.crashes:
            kinds[crash[:40]].append(crash)  # the exception type and the start of its message
        problems = [f"{self.name}: {len(c)} x {c[0][:120]}" for c in sorted(kinds.values(), key=len, reverse=True)]
        if cases < CASES or not (self.valid and self.errors):
            problems.append(f"{self.name}: too few cases, valid loads or clean errors")
        return "\n".join(problems)


def _fuzz(strategy: st.SearchStrategy[bytes], path: Path, loaders: list[Loader], pinned: list[bytes]) -> None:
    """Write each generated (and each pinned) case to ``path`` and hand it to every loader."""

    @FUZZ
    @given(strategy)
    def check(data: bytes):
        path.write_bytes(data)
        for tally, load, error in loaders:
            tally.run(load, path, error)

    for data in pinned:
        check = example(data)(check)
    check()
    problems = [tally.report() for tally, _, _ in loaders]
    if any(problems):
        pytest.fail("\n".join(p for p in problems if p), pytrace=False)


# ----- mutations -------------------------------------------------------------------------


def _edit(seed: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(seed)
    for op, pos, byte in ops:
        pos = min(pos, len(data))
        if op == "insert":
            data.insert(pos, byte)
        elif pos < len(data) and op == "flip":
            data[pos] ^= 1 << (byte % 8)
        elif pos < len(data):
            del data[pos]
    return bytes(data)


def cases(seed: bytes, structural: Callable[[random.Random], bytes], *extra) -> st.SearchStrategy[bytes]:
    """Truncations, byte edits and random bytes (a sixth each) or structural edits (half)."""
    op = st.tuples(st.sampled_from(["flip", "insert", "delete"]), st.integers(0, len(seed)), st.integers(0, 255))
    # Structural edits draw from a Random seeded by hypothesis: hypothesis's own draws favour
    # small values (the first line, the first key); a seeded Random spreads the edits evenly.
    structure = st.integers(0, 2**64 - 1).map(lambda n: structural(random.Random(n)))
    return st.one_of(
        st.integers(0, len(seed) - 1).map(lambda n: seed[:n]),
        st.lists(op, min_size=1, max_size=8).map(lambda ops: _edit(seed, ops)),
        st.one_of(st.binary(max_size=300), *extra),
        *[structure] * 3,
    )


def _npz(arrays: dict[str, np.ndarray], compress: bool = False) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, **arrays)
    return buf.getvalue()


def _arrays(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data)) as f:
        return {k: f[k] for k in f.files}


def _zip_damage(npz: bytes) -> list[bytes]:
    """The first member flagged encrypted, or with an unknown compression method (zipfile's
    RuntimeError and NotImplementedError)."""
    i = npz.index(b"PK\x01\x02")  # the first central directory entry: flags at +8, method at +10
    return [npz[: i + 8] + bytes([npz[i + 8] | 1]) + npz[i + 9 :], npz[: i + 10] + b"\x63\x00" + npz[i + 12 :]]


_ODD_DTYPES = ["int8", "float16", "complex64", "bool", "U3", "S3", "datetime64[s]", [("x", "f4"), ("y", "i2")]]


def mutate_npz(arrays: dict[str, np.ndarray], rnd: random.Random, compress: bool = False) -> bytes:
    """1-2 edits of an npz's arrays; sometimes the file is a single ``.npy`` instead."""
    arrays = dict(arrays)
    for _ in range(rnd.choice([1, 1, 2])):
        key = rnd.choice(sorted(arrays))
        a = arrays[key]
        op = rnd.choice(["drop", "nonfinite", "huge", "shape", "ndim", "dtype", "replace", "empty", "npy"])
        if op == "drop":
            del arrays[key]
        elif op in ("nonfinite", "huge") and a.size and a.dtype.kind in "fiu":
            a = a.astype(np.float64)  # a copy
            a.flat[rnd.randrange(a.size)] = rnd.choice([np.nan, np.inf, -np.inf]) if op == "nonfinite" else 1e300
            arrays[key] = a
        elif op == "shape" and a.ndim:
            arrays[key] = rnd.choice([a[:1], a[:-1], a[..., :-1], np.concatenate([a, a], axis=-1)])
        elif op == "ndim":
            arrays[key] = rnd.choice([a.reshape(-1), a[None], a.reshape(-1)[:1].squeeze()])
        elif op == "dtype":
            arrays[key] = np.zeros(a.shape, dtype=rnd.choice(_ODD_DTYPES))
        elif op == "replace":
            arrays[key] = np.array(rnd.choice(["", "garbage", "1.5", "[1, 2", 0.0, -1.0, 30.0, np.nan]))
        elif op == "empty" and a.ndim:
            arrays[key] = a[:0]
        elif op == "npy":  # np.save instead of np.savez: a user's likely mistake
            buf = io.BytesIO()
            np.save(buf, a)
            return buf.getvalue()
        if not arrays:
            break
    return _npz(arrays, compress)


_GARBAGE = [None, True, 0, -1, 1.5, 10**7, 2**70, 1e308, float("nan"), float("inf"), "", "x", "²", [], {},
            [None], [[1, 2, 3]], {"a": [{}]}, {"a.b": 1}, [0.5] * 51, [0.5] * 75]  # fmt: skip
DEEP = b"[" * 100_000  # json.loads recurses once per level


def mutate_json(obj, rnd: random.Random) -> bytes:
    """1-3 edits at random depths: delete, replace with garbage, or duplicate a node."""
    obj = copy.deepcopy(obj)
    for _ in range(rnd.randint(1, 3)):
        parent, key, node = None, None, obj
        while isinstance(node, (dict, list)) and node and (parent is None or rnd.random() < 0.7):
            parent, key = node, rnd.choice(list(node) if isinstance(node, dict) else range(len(node)))
            node = node[key]
        garbage, op = copy.deepcopy(rnd.choice(_GARBAGE)), rnd.choice(["delete", "replace", "duplicate"])
        if parent is None:
            obj = garbage
        elif op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = garbage
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(node))
        else:
            parent[f"{key}_"] = copy.deepcopy(node)
    return json.dumps(obj).encode()


def deep_nesting() -> st.SearchStrategy[bytes]:
    return st.integers(1, len(DEEP)).map(lambda n: DEEP[:n] + b"]" * (n % 2))


# ----- BVH: a small CMU skeleton in cgspeed's MotionBuilder naming ----------------------

_CMU = {"Hips": (None, (0, 0, 0)), "Spine": ("Hips", (0, 2, 0)), "Spine1": ("Spine", (0, 2, 0)),
        "Neck": ("Spine1", (0, 0, 0)), "Neck1": ("Neck", (0, 1, 0)), "Head": ("Neck1", (0, 1, 0))}  # fmt: skip
for _side, _x in (("Left", 1), ("Right", -1)):
    for _parent, _name, (_dx, _dy, _dz) in [
        ("Hips", "UpLeg", (1.5, -1, 0)), ("UpLeg", "Leg", (0, -7, 0)), ("Leg", "Foot", (0, -7, 0)),
        ("Foot", "ToeBase", (0, -1, 2)), ("Spine1", "Shoulder", (0, 0, 0)), ("Shoulder", "Arm", (3, 0, 0)),
        ("Arm", "ForeArm", (5, 0, 0)), ("ForeArm", "Hand", (4, 0, 0)), ("Hand", "HandIndex1", (1, 0, 0)),
    ]:  # fmt: skip
        _CMU[_side + _name] = (_parent if _parent in ("Hips", "Spine1") else _side + _parent, (_x * _dx, _dy, _dz))


def _bvh_text(num_frames: int = 3) -> str:
    lines, num_channels = ["HIERARCHY"], 0

    def joint(name: str, depth: int) -> None:
        nonlocal num_channels
        pad, kids = "  " * depth, [k for k, (parent, _) in _CMU.items() if parent == name]
        channels = ["Xposition", "Yposition", "Zposition"] * (depth == 0) + ["Zrotation", "Yrotation", "Xrotation"]
        num_channels += len(channels)
        offset = " ".join(map(str, _CMU[name][1]))
        lines.extend([f"{pad}{'JOINT' if depth else 'ROOT'} {name}", pad + "{", f"{pad}  OFFSET {offset}",
                      f"{pad}  CHANNELS {len(channels)} {' '.join(channels)}"])  # fmt: skip
        for kid in kids:
            joint(kid, depth + 1)
        if not kids:
            lines.extend([f"{pad}  End Site", pad + "  {", pad + "    OFFSET 0 0.5 0", pad + "  }"])
        lines.append(pad + "}")

    joint("Hips", 0)
    rows = np.random.default_rng(0).uniform(-20, 20, (num_frames, num_channels)).round(4)
    lines += ["MOTION", f"Frames: {num_frames}", "Frame Time: 0.0083333", *(" ".join(map(str, r)) for r in rows)]
    return "\n".join(lines) + "\n"


_BVH_GARBAGE = ["nan", "inf", "-inf", "1e999", "1e-320", "1e308", "-0", "abc", "1_000", "²", "{", "}", "-1", "0", ""]


def mutate_bvh(text: str, rnd: random.Random) -> bytes:
    """1-2 edits: delete, duplicate or swap lines; garbage for a token, a number of the
    hierarchy or the Frames / Frame Time value; another channel count."""
    lines = text.splitlines()
    for _ in range(rnd.randint(1, 2)):
        i = rnd.randrange(len(lines))
        op = rnd.choice(["delete", "duplicate", "swap", "token", "number", "header", "channels"])
        numeric = [k for k, ln in enumerate(lines) if ln.split()[:1] in (["OFFSET"], ["CHANNELS"])]
        header = [k for k, ln in enumerate(lines) if ln.startswith(("Frames", "Frame Time"))]
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op in ("token", "number", "header"):
            i = rnd.choice({"token": [i], "number": numeric, "header": header}[op] or [i])
            tokens = lines[i].split() or [""]
            tokens[-1 if op == "header" else rnd.randrange(len(tokens))] = rnd.choice(_BVH_GARBAGE)
            lines[i] = " ".join(tokens)
        elif op == "channels" and numeric:
            k = rnd.choice(numeric)
            tokens = lines[k].split()
            lines[k] = " ".join(["CHANNELS", str(rnd.randint(-1, 9)), *tokens[2 : 2 + rnd.randint(0, 7)]])
    return "\n".join(lines).encode()


# ----- the loaders -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def test_fuzz_bvh(work):
    """``parse_bvh`` (the format) and ``load_bvh`` (the CMU mapping: numpy forward kinematics, no IK)."""
    text = _bvh_text()
    (work / "seed.bvh").write_text(text)
    assert load_bvh(work / "seed.bvh").num_frames == 3
    edits = [("Frame Time: 0.0083333", "Frame Time: 1e-320"), ("CHANNELS 3", "CHANNELS ²"),
             ("OFFSET 0 2 0", "OFFSET 0 nan 0"), ("OFFSET 0 2 0", "OFFSET 0 1e308 0")]  # fmt: skip
    pinned = [text.replace(old, new, 1).encode() for old, new in edits]
    loaders = [(Tally("bvh parse_bvh"), parse_bvh, MotionFileError), (Tally("bvh load_bvh"), load_bvh, MotionFileError)]
    _fuzz(cases(text.encode(), lambda rnd: mutate_bvh(text, rnd)), work / "fuzz.bvh", loaders, pinned)


def test_fuzz_amass(work):
    rng = np.random.default_rng(0)
    seed = write_amass_npz(work / "seed.npz", rng.normal(0, 0.3, (3, 72)), rng.normal(0, 1, (3, 3)), 120.0).read_bytes()
    arrays = _arrays(seed)
    pinned = [_npz({**arrays, "poses": np.full((3, 72), 1e300)}), _npz({**arrays, "poses": np.zeros((3, 72), "f4,i2")})]
    pinned += _zip_damage(seed)
    loaders = [(Tally("amass load_amass"), load_amass, MotionFileError)]
    _fuzz(cases(seed, lambda rnd: mutate_npz(arrays, rnd)), work / "fuzz_amass.npz", loaders, pinned)


def test_fuzz_clip(work):
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (3, 1))
    clip = Clip("walk", 30.0, np.zeros((3, 3)), quat, np.full((3, NUM_DOF), 0.1), mean_skeleton(), "test")
    seed = clip.save(work / "seed_clip.npz").read_bytes()
    arrays = _arrays(seed)
    pinned = [_npz({**arrays, "fps": np.array([30.0, 30.0])}), _npz({**arrays, "fps": np.array(1 + 2j)})]
    pinned += _zip_damage(seed)
    loaders = [(Tally("clip load_clip"), load_clip, MotionFileError)]
    _fuzz(cases(seed, lambda rnd: mutate_npz(arrays, rnd)), work / "fuzz_clip.npz", loaders, pinned)


def _kp(num_joints: int, offset: float) -> list[float]:
    j = np.arange(num_joints, dtype=float)
    return np.stack([100 + offset + j, 50 + offset + 2 * j, np.full(num_joints, 0.9)], -1).ravel().tolist()


def _import(fmt: str) -> Callable[[Path], object]:
    return lambda path: import_video(None, path, fmt, width=640, height=480)


def test_fuzz_coco_json(work):
    """The public ``import_video`` on a COCO results file (``_read_json`` -> ``_parse_coco``)."""
    entries = [{"image_id": 0, "category_id": 1, "keypoints": _kp(17, 0), "score": 0.9, "track_id": 1},
               {"image_id": 1, "keypoints": _kp(17, 1), "bbox": [0, 0, 10, 10], "score": 0.9, "track_id": 7},
               {"image_id": 1, "keypoints": _kp(17, 2), "bbox": [0, 0, 90, 99], "score": 0.6, "track_id": 1},
               {"image_id": 2, "keypoints": [], "score": 0.0},
               {"frame": 4, "image_id": 9, "keypoints": [_kp(17, 3)[k : k + 3] for k in range(0, 51, 3)]}]  # fmt: skip
    # Frame number 10**7 asked for a 10-million-frame video (15 s and 2 GB; 10**8 ran out of memory).
    pinned = [DEEP, json.dumps([{**entries[0], "image_id": 10**7}]).encode()]
    loaders = [(Tally("coco import_video"), _import("coco"), VideoFileError)]
    strategy = cases(json.dumps(entries).encode(), lambda rnd: mutate_json(entries, rnd), deep_nesting())
    _fuzz(strategy, work / "fuzz_coco.json", loaders, pinned)


def test_fuzz_openpose_json(work):
    """The public ``import_video`` on one OpenPose JSON file of frames (``_parse_openpose``)."""
    frames = [{"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": _kp(25, t)}] * (1 + t % 2)}
              for t in range(3)] + [{"people": []}]  # fmt: skip
    loaders = [(Tally("openpose import_video"), _import("openpose"), VideoFileError)]
    strategy = cases(json.dumps(frames).encode(), lambda rnd: mutate_json(frames, rnd), deep_nesting())
    _fuzz(strategy, work / "fuzz_openpose.json", loaders, [DEEP])


def test_fuzz_video_shard(work):
    """``load_sample`` with and without frames, on plain and compressed shards."""
    t, rng = 2, np.random.default_rng(0)
    sample = VideoSample(
        kp2d=rng.uniform(0, 8, (t, 17, 2)), conf=rng.uniform(0, 1, (t, 17)),
        K=np.array([[8.0, 0, 4], [0, 8.0, 3], [0, 0, 1]]), R_wc=np.tile(np.eye(3), (t, 1, 1)),
        t_wc=np.zeros((t, 3)), fps=30.0, joint_names=COCO17_NAMES,
        frames=rng.integers(0, 256, (t, 6, 8, 3), dtype=np.uint8), image_size=(8, 6),
        joints3d=rng.normal(size=(t, 24, 3)), root_quat=np.tile([1.0, 0, 0, 0], (t, 1)),
        features=rng.normal(size=(t, 4)), root_6d_estimate=np.tile([1.0, 0, 0, 0, 1, 0], (t, 1)),
        name="s", source="synthetic", import_report={"frames": t},
    )  # fmt: skip
    seeds = [save_sample(work / f"seed_{c}.npz", sample, compress=c).read_bytes() for c in (False, True)]
    arrays = _arrays(seeds[0])
    no_joints = {"kp2d": np.zeros((t, 0, 2)), "conf": np.zeros((t, 0)), "joint_names": np.array([], str)}
    changes = [no_joints, {"image_size": np.array([np.inf, 6.0])}, {"import_report": np.array(DEEP.decode())},
               {"fps": np.array(1 + 2j)}]  # fmt: skip
    pinned = [_npz({**arrays, **change}) for change in changes] + _zip_damage(seeds[0])
    strategy = st.one_of(*(cases(s, lambda rnd, c=c: mutate_npz(arrays, rnd, compress=c)) for c, s in enumerate(seeds)))
    no_frames = functools.partial(load_sample, load_frames=False)
    loaders = [(Tally("shard load_sample"), load_sample, VideoFileError),
               (Tally("shard load_sample(load_frames=False)"), no_frames, VideoFileError)]  # fmt: skip
    _fuzz(strategy, work / "fuzz_shard.npz", loaders, pinned)


def test_fuzz_run_config(work):
    """A run's ``config.json``: ``run_dir.load_config`` (a dict) and ``expert.config.load_config``
    (a ConfigDict through ``config_io.from_dict``), both raising ``RunDirError``."""
    config = expert_config.default_config("smoke").to_dict()
    run = work / "run"
    seed = run_dir.save_config(run, config).read_bytes()
    assert expert_config.load_config(run).to_dict() == config
    loaders = [(Tally(f"config.json {name}.load_config"), lambda p, load=load: load(p.parent), run_dir.RunDirError)
               for name, load in (("run_dir", run_dir.load_config), ("expert", expert_config.load_config))]  # fmt: skip
    pinned = [DEEP, b'{"a": "\xff"}', b"[1, 2]", b'{"a.b": 1}', b'{"__eq__": 1}']
    strategy = cases(seed, lambda rnd: mutate_json(config, rnd), deep_nesting())
    _fuzz(strategy, run / run_dir.CONFIG_FILE, loaders, pinned)


def test_fuzz_exported_policy(work):
    """``load_policy`` on an exported ``.npz``; edits reach its arrays and its ``__meta__``
    JSON. A case that loads runs one ``jax.eval_shape`` of an 8-unit network (~20 ms)."""
    config = expert_config.default_config("smoke")
    config.ppo.policy_hidden, config.ppo.value_hidden = [8], [8]
    sizes, ppo_config = policy_sizes(config), expert_config.ppo_config(config)
    shapes = jax.eval_shape(lambda key: ppo.init_training_state(sizes, ppo_config, key), jax.random.PRNGKey(0))
    state = jax.tree.map(lambda x: np.full(x.shape, 0.5, x.dtype), shapes)  # no init compile: only shapes matter
    save_policy(work / "seed_policy.npz", config, state)
    seed = (work / "seed_policy.npz").read_bytes()
    arrays = _arrays(seed)
    meta = json.loads(arrays["__meta__"].tobytes())

    def with_meta(text: bytes) -> bytes:
        return _npz({**arrays, "__meta__": np.frombuffer(text, np.uint8)}, compress=True)

    def structural(rnd: random.Random) -> bytes:
        return mutate_npz(arrays, rnd, compress=True) if rnd.random() < 0.5 else with_meta(mutate_json(meta, rnd))

    zero_width = copy.deepcopy(meta)
    zero_width["config"]["ppo"]["policy_hidden"] = [0]
    pinned = [with_meta(json.dumps(zero_width).encode()), with_meta(b"[]"), with_meta(b'{"format_version": 1}')]
    pinned += _zip_damage(seed)
    loaders = [(Tally("policy load_policy"), load_policy, run_dir.RunDirError)]
    _fuzz(cases(seed, structural), work / "fuzz_policy.npz", loaders, pinned)


def test_an_unparsable_member_header_is_a_clean_error_in_every_npz_loader(tmp_path):
    """A member whose ``.npy`` header has an unclosed bracket: numpy retries the header
    through ``tokenize``, which raises ``tokenize.TokenError`` (a crash this fuzzing found in
    ``load_policy``); every ``.npz`` loader turns it into its one-line error naming the file."""
    import zipfile

    buf = io.BytesIO()
    np.save(buf, np.zeros(3, np.float32))
    member = buf.getvalue().replace(b"(3,)", b"(3,(")
    path = tmp_path / "broken.npz"
    with zipfile.ZipFile(path, "w") as f:
        f.writestr("root_pos_m.npy", member)
        f.writestr("__meta__.npy", member)
    for loader, error in ((load_clip, MotionFileError), (load_amass, MotionFileError), (load_sample, VideoFileError),
                          (load_policy, run_dir.RunDirError)):  # fmt: skip
        with pytest.raises(error, match="broken.npz"):
            loader(path)
