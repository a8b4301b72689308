"""Shared plotting helper for the analyzers' ``plot()`` methods (matplotlib imported lazily)."""


def axes_or_new(ax=None):
    """``ax`` itself, or the Axes of a new figure when ``ax`` is None."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax
