import sys

if sys.argv[1:2] == ["engine"]:  # python -m benchmarks engine: the old engine and the new
    from .engine import main as engine

    raise SystemExit(engine(sys.argv[2:]))

from .run import main

raise SystemExit(main())
