"""The foundations: conventions, landmark topologies, geometry, metrics, configurations and recipes, registries, atomic writes."""
