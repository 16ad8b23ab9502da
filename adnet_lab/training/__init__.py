"""Training: the losses and the training loop.

Names not found here are looked up in :mod:`adnet_lab.training.loop` on first use, so that
``adnet_lab.training.<name>`` written against the earlier single module keeps working."""

from adnet_lab.core import forward_attributes

__getattr__ = forward_attributes("adnet_lab.training.loop")
