"""The ray-input benchmark's timed function runs and gives the policy's 48 numbers (bench/rays.py)."""

from physhmr_jax.bench.rays import bench_ray_observation, ray_inputs


def test_ray_bench_inputs_and_output():
    joints, quat, camera, kp, conf = ray_inputs(64)
    assert joints.shape == (64, 24, 3) and camera.batch_shape == (64,) and kp.shape == (64, 12, 2)
    assert 0.0 < float((conf == 0).mean()) < 0.25  # about a tenth of the keypoints missing
    result = bench_ray_observation(64, repeats=2)
    assert result["obs_dim"] == 48 and result["finite"]  # 12 x 3 offsets + 12 confidences
    assert result["step_s"] > 0 and result["compile_s"] > 0
