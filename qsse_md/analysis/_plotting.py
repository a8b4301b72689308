"""The one plotting pattern of the analyzers and their results (freud's): every plot method is
``plot(ax=None)`` (further views ``plot_<what>(..., ax=None)``), draws on ``ax`` or on a new
figure's Axes and returns that Axes; matplotlib is imported only here, lazily."""


def axes_or_new(ax=None):
    """``ax`` itself, or the Axes of a new figure when ``ax`` is None.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax
