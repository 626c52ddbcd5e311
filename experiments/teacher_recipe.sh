# The teacher's recipe over the `cpu` preset (docs/expert.md): horizon 16 in minibatches of
# 512, fixed rate 1e-4, a pelvis-position reward term 0.3. Sourced by teacher.sh and
# expert_walks.sh, so the teacher and the levers measured against it share one definition.
# shellcheck disable=SC2034  # used by the scripts that source it
recipe=(--set ppo.horizon=16 --set ppo.minibatch_size=512 --set ppo.learning_rate=1e-4
        --set env.reward_scales.root_pos=0.3)
