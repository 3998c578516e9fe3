# gdlessons' Jupyter settings: the lessons' kernels. `python -m gdlessons.lab` (which `make setup`
# runs) copies this file to <environment>/etc/ipython/, which every kernel started from that
# environment reads (make run, make test, make lab, python -m gdlessons.lab).
c = get_config()  # noqa: F821 - provided by IPython when it loads this file

# Figures inline, as %matplotlib inline does. A figure is then published as its PNG plus a text
# fallback that IPython makes "<Figure size 700x450 with 1 Axes>", a repr stored in every notebook.
# The fallback is what a text-only reader gets, so it gets the figure's titles instead. (The inline
# backend clears figure printers when it sets itself up, which happens before these lines run.)
c.InteractiveShellApp.matplotlib = "inline"
c.InteractiveShellApp.exec_lines = [
    "get_ipython().display_formatter.formatters['text/plain'].for_type_by_name("
    "'matplotlib.figure', 'Figure', lambda fig, p, cycle: p.text('Figure: ' + ' | '.join("
    "t for t in [fig.get_suptitle(), *(a.get_title() for a in fig.axes if a.get_visible())] if t)))"
]
