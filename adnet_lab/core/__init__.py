"""The foundations: errors, scheme and curve names, run file names, registries,
configurations and recipes, atomic writes, conventions, topologies, geometry, metrics and
the published results."""
