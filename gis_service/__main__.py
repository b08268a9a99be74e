"""``python -m gis_service`` runs the ``schoolgis`` command."""

from gis_service.cli import main

if __name__ == "__main__":
    main()
