"""Training: the losses and the training loop."""
