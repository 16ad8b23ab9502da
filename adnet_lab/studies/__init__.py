"""Studies: run folders, the runner, the confirmation draws, the committed studies, the
demo and the side-by-side panel."""
