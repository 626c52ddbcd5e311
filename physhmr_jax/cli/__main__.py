"""``python -m physhmr_jax.cli``: the same as the ``physhmr`` command."""

import sys

from physhmr_jax.cli import main

sys.exit(main())
