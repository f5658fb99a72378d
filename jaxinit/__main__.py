"""``python -m jaxinit`` runs the ``jaxinit`` command line."""

import sys

from jaxinit._src.cli import main

sys.exit(main())
