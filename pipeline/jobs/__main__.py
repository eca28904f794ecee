"""`python -m pipeline.jobs run JOB_ID`: the child process of one job (started by `start`)."""
import sys

from pipeline.jobs import main
from pipeline.store import NotFoundError

try:
    sys.exit(main())
except NotFoundError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
