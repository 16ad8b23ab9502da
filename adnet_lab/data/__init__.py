"""Data: dataset readers, crops and augmentation, training targets, synthetic faces, faces
drawn once (rendered), curve splines and prediction files."""
