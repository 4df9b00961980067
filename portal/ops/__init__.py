"""Operating the portal: bootstrap (``portal init``), start-up checks, health, logs."""
