"""Studies: run folders, the runner, the confirmation draws, the committed studies, the
demo, the side-by-side panel, the mechanisms read from study runs, ``adnet-lab analyze``'s
report and a long job's phases."""
