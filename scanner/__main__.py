"""``python -m scanner`` runs the ``residency`` command."""

import sys

from scanner.cli import main

sys.exit(main())
