"""Are gradients through the MJX humanoid a usable learning signal for tracking?

The question behind analytic-gradient methods (SHAC, AHAC), which learn from far fewer
env steps than PPO where the simulator's gradients are informative. The probe optimises
open-loop residual action sequences by Adam on the summed reward of H control steps, each of
the first N clips playing from its first frame, the reward of a step counting only while no
body is farther than the training termination distance from the reference ("held").
If the gradients carry signal, the return and the frames held rise over the iterations.

MJX's constraint solver runs a ``while_loop`` for more than one iteration, which reverse-mode
differentiation cannot pass; the probe therefore sets ``humanoid.solver_iterations=1`` (the
default is 4), which is itself a change of the physics.

Usage (session 17, dev CPU, about 4-5 min each, most of it the compile):

    .venv/bin/python experiments/grad_probe.py --horizon 30 --learning-rate 0.03
    .venv/bin/python experiments/grad_probe.py --horizon 10 --learning-rate 0.003
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from physhmr_jax.agents import acting
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--motions", default="procedural")
    parser.add_argument("--horizon", type=int, default=30, help="control steps differentiated through")
    parser.add_argument("--envs", type=int, default=16, help="clips 0..N-1 (cycled), one per env")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--learning-rate", type=float, default=0.03, help="Adam, in action units")
    args = parser.parse_args()

    config = expert_config.default_config("cpu")
    config.motions.path = args.motions
    config.humanoid.solver_iterations = 1  # reverse mode cannot pass the solver's while_loop
    expert = build_expert(config)
    env, lib = expert.env, expert.motion_lib
    n = args.envs
    keys = jax.random.split(jax.random.PRNGKey(0), n)
    start = jax.vmap(env.reset_to, (0, None, 0, 0))(keys, lib, jnp.arange(n) % lib.num_clips, jnp.zeros(n))
    step = acting.batched_step(env, lib)

    def loss(actions):  # [H, N, A] -> (-mean return, held [H, N])
        def body(carry, action):
            state, held = carry
            state = step(state, action)
            held = held * (1.0 - jax.lax.stop_gradient(state.terminated))
            return (state, held), (state.reward * held, held)

        _, (rewards, held) = jax.lax.scan(body, (start, jnp.ones(n)), actions)
        return -rewards.sum(0).mean(), held

    grad_fn = jax.jit(jax.value_and_grad(loss, has_aux=True))
    optimiser = optax.adam(args.learning_rate)

    @jax.jit
    def update(grad, opt_state, actions):
        grad = jnp.where(jnp.isfinite(grad), grad, 0.0)
        updates, opt_state = optimiser.update(grad, opt_state, actions)
        return optax.apply_updates(actions, updates), opt_state

    actions = jnp.zeros((args.horizon, n, env.action_size))
    opt_state = optimiser.init(actions)
    t0 = time.perf_counter()
    (value, held), grad = grad_fn(actions)
    jax.block_until_ready(grad)
    print(
        f"zero action: return {-float(value):.3f}, frames held {float(held.sum(0).mean()):.1f} of {args.horizon}; "
        f"gradient norm {float(jnp.linalg.norm(grad)):.3g}, finite {bool(jnp.all(jnp.isfinite(grad)))} "
        f"(compile and first pass {time.perf_counter() - t0:.0f} s)"
    )
    for i in range(1, args.iterations + 1):
        actions, opt_state = update(grad, opt_state, actions)
        (value, held), grad = grad_fn(actions)
        if i % 5 == 0:
            frames = np.asarray(held.sum(0))
            print(
                f"iteration {i}: return {-float(value):.3f}, frames held mean {frames.mean():.1f} "
                f"(min {frames.min():.0f}, max {frames.max():.0f}), gradient finite {bool(jnp.all(jnp.isfinite(grad)))}"
            )


if __name__ == "__main__":
    main()
