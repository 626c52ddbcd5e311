"""The mocap-trained expert (teacher): PPO on the imitation env with the privileged reference.

* :mod:`.config` — the run's config (sections ``ppo``, ``env``, ``humanoid``,
  ``motions``, ``run``) and the named presets;
* :mod:`.build` — humanoid, env and motion library from a config;
* :mod:`.train` — ``physhmr train expert``: the generic training driver on this env;
* :mod:`.evaluate` — ``physhmr eval expert``: every clip from its first frame, success
  rate (PHC's rule) and tracking errors.
"""
