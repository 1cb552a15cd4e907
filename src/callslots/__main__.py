"""``python -m callslots``: the command line."""

from .cli import main

raise SystemExit(main())
