"""Data: dataset readers, crops and augmentation, training targets, synthetic faces."""
