"""The foundations: conventions, landmark topologies, geometry, metrics, configurations,
recipes, registries and atomic writes."""
