"""`python -m napari_lightmic`: the `lightmic` command line."""

import sys

from .cli import main

sys.exit(main())
