"""``python -m gis_service`` runs the ``schoolgis`` command."""

import sys

from gis_service.cli import main

if __name__ == "__main__":
    sys.exit(main())
