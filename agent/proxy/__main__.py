import sys

from agent.proxy.server import main

sys.exit(main())
