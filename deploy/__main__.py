import sys

from deploy.cli import main

sys.exit(main(sys.argv[1:]))
