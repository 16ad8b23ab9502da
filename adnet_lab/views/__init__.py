"""Views: the ipywidgets panels of the notebooks."""
