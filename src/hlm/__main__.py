import sys

from hlm import worker

code = worker.run(sys.argv[1:])  # in the warm worker, if one can be used
if code is None:
    from hlm.cli import main

    code = main()
raise SystemExit(code)
