import sys

from protein_performer.gpu_check.gpu_check_cli import main

sys.exit(main())
