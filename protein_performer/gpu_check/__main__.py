import sys

from protein_performer.gpu_check.cli import main

sys.exit(main())
