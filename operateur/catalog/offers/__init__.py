"""The built-in offer templates, one YAML file per seed document (a package so they ship)."""
